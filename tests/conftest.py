"""Shared fixtures: the bundled demo photos as references, and a few synthetic images."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from refvid.references import Reference

DEMO = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")


def demo_path(name: str) -> Path:
    """Filesystem path of a bundled demo photo."""
    return Path(str(resources.files("refvid.demo") / name))


@pytest.fixture(scope="session")
def demo_paths() -> list[Path]:
    return [demo_path(name) for name in DEMO]


@pytest.fixture(scope="session")
def demo_refs(demo_paths: list[Path]) -> list[Reference]:
    return [
        Reference(i, np.asarray(Image.open(path).convert("RGB")), path.name) for i, path in enumerate(demo_paths)
    ]


def synthetic(width: int, height: int, seed: int) -> np.ndarray:
    """A textured, colourful RGB image: smooth gradients plus blobs, distinct per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        fx, fy, phase = rng.uniform(1, 5), rng.uniform(1, 5), rng.uniform(0, 6.28)
        image[:, :, channel] = 127 + 100 * np.sin(xx / width * fx * 6.28 + phase) * np.cos(yy / height * fy * 3.14)
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.03, 0.12) * min(width, height)
        colour = rng.uniform(0, 255, 3)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        image[mask] = colour
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def seven_refs() -> list[Reference]:
    return [Reference(i, synthetic(640 + 40 * i, 480, seed=i), f"synthetic {i}") for i in range(7)]


# The real-browser fixtures (Debian's chromium through Playwright), shared by every page test.
from .browser import browser as browser  # noqa: E402
from .browser import console as console  # noqa: E402
from .browser import page as page  # noqa: E402
from .browser import screenshots as screenshots  # noqa: E402
