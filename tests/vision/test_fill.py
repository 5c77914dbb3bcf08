"""Background plates: the hole is filled from its surroundings and the rest of the picture is untouched."""

from __future__ import annotations

import numpy as np

from refvid.vision.fill import fill_background


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
