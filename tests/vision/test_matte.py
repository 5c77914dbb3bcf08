"""Matte refinement: the guided filter follows the picture's edges; foreground colours lose the old background."""

from __future__ import annotations

import cv2
import numpy as np

from refvid.vision import matte
from refvid.vision.matte import _nonzero, _strictly_between


def _disc(size: int = 160, radius: int = 50) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size]
    inside = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < radius**2
    image = np.where(inside[:, :, None], np.array([230, 40, 30], np.uint8), np.array([20, 60, 200], np.uint8))
    return image.astype(np.uint8), inside


def test_a_shifted_coarse_mask_snaps_to_the_real_edge() -> None:
    image, inside = _disc()
    coarse = np.roll(inside, 6, axis=1).astype(np.float32)  # the mask is 6 px off to the right
    a, b = matte.refine(image, coarse, radius=8, eps=1e-4)
    alpha = matte.sharpen(matte.apply_coefficients(image, a, b))
    iou_before = (coarse.astype(bool) & inside).sum() / (coarse.astype(bool) | inside).sum()
    iou_after = ((alpha > 0.5) & inside).sum() / ((alpha > 0.5) | inside).sum()
    assert iou_after > 0.9 and iou_after > iou_before + 0.05, (iou_before, iou_after)


def test_coefficients_made_small_give_a_sharp_large_matte() -> None:
    import cv2

    image, inside = _disc(160, 50)
    big = cv2.resize(image, (640, 640), interpolation=cv2.INTER_NEAREST)
    a, b = matte.refine(image, inside.astype(np.float32), radius=4, eps=1e-4)
    alpha = matte.apply_coefficients(big, a, b)
    assert alpha.shape == (640, 640) and alpha.dtype == np.float32
    truth = cv2.resize(inside.astype(np.uint8), (640, 640), interpolation=cv2.INTER_NEAREST) > 0
    assert ((alpha > 0.5) == truth).mean() > 0.995
    row = alpha[320, 80:560]
    assert np.count_nonzero((row > 0.1) & (row < 0.9)) <= 12  # edges a few pixels wide, not smeared


def test_foreground_colour_removes_the_old_background_at_the_edge() -> None:
    soft = np.clip((50.0 - np.hypot(*(np.mgrid[0:160, 0:160] - 80))) / 4 + 0.5, 0, 1).astype(np.float32)
    red, blue = np.array([230, 40, 30], np.float32), np.array([20, 60, 200], np.float32)
    blended = (soft[:, :, None] * red + (1 - soft[:, :, None]) * blue).astype(np.uint8)
    fg, bg = matte.estimate_colours(blended, soft, 3)
    colour = matte.foreground_colour(blended, soft, fg, bg)
    band = (soft > 0.1) & (soft < 0.9)
    assert band.sum() > 100
    error = np.abs(colour[band].astype(np.float32) - red).mean()
    assert error < 12, error  # the edge is red again, not purple
    assert np.array_equal(colour[soft >= 254 / 255], blended[soft >= 254 / 255])


def test_the_fractional_band_is_found_as_numpy_finds_it() -> None:
    # foreground_colour solves the pixels with 1/255 < alpha < 254/255; OpenCV finds them
    # (inRange, findNonZero) in NumPy's order, the bounds themselves excluded.
    rng = np.random.default_rng(5)
    alpha = rng.random((300, 401), dtype=np.float32)
    alpha[rng.random(alpha.shape) < 0.3] = 0
    alpha[rng.random(alpha.shape) < 0.3] = 1
    alpha.flat[:4] = [np.float32(1 / 255), np.float32(254 / 255), np.nextafter(np.float32(1 / 255), np.float32(1)),
                      np.nextafter(np.float32(254 / 255), np.float32(0))]
    found = _nonzero(cv2.inRange(alpha, *_strictly_between(1 / 255, 254 / 255)))
    expected = np.nonzero((alpha > 1 / 255) & (alpha < 254 / 255))
    assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
    assert [len(v) for v in _nonzero(np.zeros((3, 3), np.uint8))] == [0, 0]
