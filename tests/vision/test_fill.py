"""Background plates: the hole is filled from its surroundings and the rest of the picture is untouched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from refvid.vision.fill import _vote, fill_background


def test_a_hole_in_a_gradient_is_filled_with_the_gradient() -> None:
    yy, xx = np.mgrid[0:300, 0:400].astype(np.float32)
    image = np.dstack([xx / 400 * 200 + 20, yy / 300 * 200 + 20, np.full_like(xx, 90)]).astype(np.uint8)
    damaged = image.copy()
    hole = np.zeros((300, 400), bool)
    hole[100:200, 150:260] = True
    damaged[hole] = (255, 0, 255)
    plate = fill_background(damaged, hole)
    assert np.abs(plate[hole].astype(int) - image[hole].astype(int)).mean() < 12
    far = np.ones_like(hole)
    far[80:220, 130:280] = False
    assert np.array_equal(plate[far], damaged[far])  # outside the seam: the photo itself


def test_large_pictures_are_filled_at_a_bounded_size_with_no_hole_colour_left() -> None:
    rng = np.random.default_rng(5)
    image = (rng.random((1500, 2000, 3)) * 40 + 100).astype(np.uint8)
    hole = np.zeros((1500, 2000), bool)
    hole[400:1300, 700:1200] = True
    image[hole] = (0, 0, 0)
    plate = fill_background(image, hole, finest_side=512)
    assert plate.shape == image.shape
    assert plate[hole].min() > 40  # not a black pixel left


def test_no_hole_gives_the_picture_back() -> None:
    image = np.full((50, 60, 3), 77, np.uint8)
    assert np.array_equal(fill_background(image, np.zeros((50, 60), bool)), image)


def _wall_with_red_band() -> tuple[np.ndarray, np.ndarray]:
    """A grey textured wall with a red band at the left, and a hole beside the band."""
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.normal(0, 14, (300, 400)).astype(np.float32), (0, 0), 1.2)
    image = np.dstack([128 + noise] * 3)
    image[:, :80] = np.dstack([200 + noise[:, :80], 30 + noise[:, :80] * 0.3, 35 + noise[:, :80] * 0.3])
    hole = np.zeros((300, 400), bool)
    hole[60:260, 80:300] = True  # touches the band along its whole left side
    return np.clip(image, 0, 255).astype(np.uint8), hole


def test_a_colour_beside_a_large_hole_does_not_streak_into_it() -> None:
    image, hole = _wall_with_red_band()
    damaged = image.copy()
    damaged[hole] = (0, 0, 0)
    plate = fill_background(damaged, hole)
    lab = cv2.cvtColor(plate, cv2.COLOR_RGB2LAB).astype(np.float32)
    core = np.zeros_like(hole)
    core[90:230, 140:270] = True  # farther than 60 px from the band: the wall's part of the hole
    redness = lab[:, :, 1] - 128
    assert (redness[core] > 15).mean() < 0.01


def test_a_large_hole_keeps_the_texture_of_its_surroundings() -> None:
    image, hole = _wall_with_red_band()
    damaged = image.copy()
    damaged[hole] = (0, 0, 0)
    plate = fill_background(damaged, hole).astype(np.float32)
    detail = np.abs(plate - cv2.GaussianBlur(plate, (0, 0), 2.0)).mean(axis=2)
    wall = np.zeros_like(hole)
    wall[:, 310:] = True
    # A diffused fill is smooth: its fine detail is a fraction of the wall's.
    assert detail[110:210, 150:250].mean() > 0.6 * detail[wall].mean()


@pytest.mark.parametrize("seed", [9, 10, 11])
def test_a_hole_in_a_smooth_backdrop_is_filled_without_seams(seed: int) -> None:
    # A studio backdrop: colour varying slowly in both directions, no texture to copy.
    rng = np.random.default_rng(seed)
    blobs = cv2.GaussianBlur(rng.normal(0, 1, (300, 400, 3)).astype(np.float32), (0, 0), 30)
    image = np.clip(128 + blobs / np.abs(blobs).max() * 90, 0, 255).astype(np.uint8)
    hole = np.zeros((300, 400), bool)
    cv2.circle(hole.view(np.uint8), (200, 160), 90, 1, -1)
    damaged = image.copy()
    damaged[hole] = (0, 0, 0)
    plate = fill_background(damaged, hole).astype(np.float32)

    def steepness(picture: np.ndarray) -> np.ndarray:
        gy, gx = np.gradient(cv2.GaussianBlur(picture, (0, 0), 1.0), axis=(0, 1))
        return np.hypot(gy, gx).max(axis=2)

    inside = cv2.erode(hole.view(np.uint8), np.ones((9, 9), np.uint8)) > 0
    # Copies that meet with a step in brightness (a patchwork), or streaks, are steeper than
    # anything around.
    assert np.percentile(steepness(plate)[inside], 99) < 1.25 * steepness(image.astype(np.float32)).max()


def _vote_as_products(level: np.ndarray, hole: np.ndarray, field: tuple[np.ndarray, np.ndarray],
                      sources: np.ndarray, step: int) -> np.ndarray:
    """``fill._vote`` as first written: each neighbour's copy multiplied by its 0/1 weight and added."""
    height, width = hole.shape
    ys, xs = np.nonzero(hole)
    y0, y1 = max(0, int(ys.min()) - step), min(height, int(ys.max()) + 1 + step)
    x0, x1 = max(0, int(xs.min()) - step), min(width, int(xs.max()) + 1 + step)
    grid_y, grid_x = np.mgrid[y0:y1, x0:x1].astype(np.int32)
    centre_y, centre_x = grid_y + field[0][y0:y1, x0:x1], grid_x + field[1][y0:y1, x0:x1]
    valid = (centre_y >= 0) & (centre_y < height) & (centre_x >= 0) & (centre_x < width)
    valid &= sources[np.clip(centre_y, 0, height - 1), np.clip(centre_x, 0, width - 1)]
    box_h, box_w = valid.shape
    total = np.zeros((box_h, box_w, level.shape[2]), np.float32)
    count = np.zeros((box_h, box_w), np.float32)
    for ey in (-step, 0, step):
        for ex in (-step, 0, step):
            near = (slice(max(0, ey), box_h + min(0, ey)), slice(max(0, ex), box_w + min(0, ex)))
            here = (slice(max(0, -ey), box_h + min(0, -ey)), slice(max(0, -ex), box_w + min(0, -ex)))
            weight = valid[near].astype(np.float32)
            copy = cv2.remap(level, (centre_x[near] - ex).astype(np.float32), (centre_y[near] - ey).astype(np.float32),
                             cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
            total[here] += copy * weight[:, :, None]
            count[here] += weight
    ys, xs = ys - y0, xs - x0
    votes = count[ys, xs]
    colours = np.where(votes[:, None] > 0, total[ys, xs] / np.maximum(votes, 1)[:, None], level[ys + y0, xs + x0])
    return colours.astype(np.float32)


@pytest.mark.parametrize("step", [1, 3])
def test_votes_are_summed_in_place_to_the_same_colours(step: int) -> None:
    # The vote adds each neighbour's copy where it comes from known background, in place
    # (cv2.accumulate into views of the sum): the same sums, to the bit, as the products.
    rng = np.random.default_rng(step)
    level = (rng.random((120, 170, 3)) * 255).astype(np.float32)
    hole = np.zeros((120, 170), bool)
    hole[30:95, 2:120] = True
    sources = ~cv2.dilate(hole.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    field = (rng.integers(-40, 40, hole.shape).astype(np.int32), rng.integers(-60, 60, hole.shape).astype(np.int32))
    assert np.array_equal(_vote(level, hole, field, sources, step), _vote_as_products(level, hole, field, sources, step))
