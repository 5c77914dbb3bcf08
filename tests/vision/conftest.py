"""Real photos for the vision tests: the bundled demo references and a person photo made here."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.conftest import demo_path


def demo_image(name: str) -> np.ndarray:
    """A bundled demo reference as RGB uint8."""
    return np.asarray(Image.open(demo_path(name)).convert("RGB"))


def cameraman() -> np.ndarray:
    """A person photo of our own making: scikit-image's public-domain "camera" picture
    (a man filming on a lawn, in profile), tinted warm and cropped to a 4:3 portrait."""
    from skimage import data

    gray = data.camera()[:, :384].astype(np.float32)
    tint = np.array([1.08, 1.0, 0.86], np.float32)
    return np.clip(gray[:, :, None] * tint, 0, 255).astype(np.uint8)


def polygon_mask(shape: tuple[int, int], *polygons: list[tuple[int, int]],
                 ellipses: tuple[tuple[int, int, int, int], ...] = ()) -> np.ndarray:
    """A hand-drawn coarse mask: filled polygons and ellipses (cx, cy, ax, ay)."""
    mask = np.zeros(shape, np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [np.array(polygon, np.int32)], 1)
    for cx, cy, ax, ay in ellipses:
        cv2.ellipse(mask, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
    return mask > 0


# Coarse subject masks drawn by hand over the pictures (checked by eye as overlays).
ASTRONAUT_MASK = {
    "polygons": ([(18, 512), (22, 300), (60, 232), (118, 190), (300, 190), (352, 250), (362, 340),
                  (440, 342), (500, 390), (512, 420), (512, 512)],
                 [(115, 200), (135, 150), (180, 130), (280, 130), (305, 200)]),
    "ellipses": ((228, 85, 74, 70),),
}
CAMERAMAN_MASK = {
    "polygons": ([(0, 512), (0, 235), (30, 160), (128, 112), (165, 78), (210, 64), (258, 90), (262, 140),
                  (325, 140), (330, 200), (290, 235), (282, 290), (200, 312), (150, 330), (150, 512)],),
    "ellipses": (),
}
COFFEE_MASK = {
    "polygons": ([(180, 110), (400, 110), (380, 250), (200, 250)],),
    "ellipses": ((278, 228, 200, 158), (290, 110, 118, 92)),
}


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return demo_image("astronaut.jpg")


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    return demo_image("coffee.jpg")


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    return demo_image("chelsea.jpg")


@pytest.fixture(scope="session")
def person() -> np.ndarray:
    return cameraman()
