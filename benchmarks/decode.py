"""Reduced-size (DCT-scaled) JPEG decoding vs full decoding of a 24-megapixel photo.

Run: .venv/bin/python benchmarks/decode.py [--repeat 5]
Prints the median time of each way of decoding and the speed-up ratios, all measured in this run.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from refvid.references.decode import decode_image


def make_photo(width: int = 6000, height: int = 4000) -> bytes:
    """A photo-like 24 MP JPEG: smooth gradients, shapes and sensor-like noise (quality 90)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 128 + 100 * np.sin(x / 700) * np.cos(y / 500)
    image[..., 1] = 128 + 90 * np.cos((x + y) / 900)
    image[..., 2] = 128 + 80 * np.sin(y / 300)
    for _ in range(40):
        cx, cy, r = rng.integers(0, width), rng.integers(0, height), rng.integers(50, 600)
        colour = tuple(float(c) for c in rng.integers(0, 256, 3))
        cv2.circle(image, (int(cx), int(cy)), int(r), colour, -1)
    image += rng.normal(0, 6, image.shape).astype(np.float32)
    pixels = np.clip(image, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = make_photo()
    print(f"24 MP JPEG: 6000×4000, {len(data) / 1e6:.1f} MB")

    def pillow_full() -> np.ndarray:
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"))

    def opencv(flag: int) -> Callable[[], np.ndarray]:
        buffer = np.frombuffer(data, np.uint8)
        return lambda: cv2.imdecode(buffer, flag)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("Pillow full decode (baseline)", pillow_full),
        ("refvid decode_image, full size (working_side=0)", lambda: decode_image(data, 0, working_side=0)),
        ("refvid decode_image, default (draft)", lambda: decode_image(data, 0)),
        ("OpenCV imdecode full", opencv(cv2.IMREAD_COLOR)),
        ("OpenCV imdecode IMREAD_REDUCED_COLOR_2", opencv(cv2.IMREAD_REDUCED_COLOR_2)),
    ]
    shape = decode_image(data, 0).shape
    print(f"default decode_image output: {shape[1]}×{shape[0]} (short side kept >= 1920)")
    results = {name: median_seconds(fn, args.repeat) for name, fn in cases}
    baseline = results[cases[0][0]]
    for name, seconds in results.items():
        print(f"{name:52s} {seconds * 1000:8.1f} ms   {baseline / seconds:5.2f}× vs baseline")
    full = results[cases[1][0]]
    draft = results[cases[2][0]]
    print(f"speed-up of refvid's draft decode over its own full decode: {full / draft:.2f}×")


if __name__ == "__main__":
    main()
