"""The playground's free plan preview: replanning with the decoded references kept vs decoded again.

Run: .venv/bin/python benchmarks/plan.py [--images 3] [--repeat 7]

In process, no server: the work behind ``POST /v2/plan`` (decode the inline references,
then the engine's plan) for N photo-sized 4000×3000 JPEGs sent as base64, as a page does at
every pause in typing. Baseline: a fresh ``DecodedCache`` each time (what a plan costs
without the cache). Then the same with one cache kept across calls, as the server does.
Medians, alternating the two so machine load hits both alike, and their ratio.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import time

import numpy as np
from PIL import Image

from refvid.api.plan import DecodedCache
from refvid.engines import get_engine
from refvid.generate import make_plan
from refvid.references import SERVER
from refvid.request import GenerationRequest


def photo(seed: int, size: tuple[int, int] = (4000, 3000)) -> str:
    """A noisy, photo-like JPEG (quality 90) as base64: costs what a phone photo costs to decode."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(size, Image.BICUBIC)
    noise = rng.normal(0, 6, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return base64.b64encode(buf.getvalue()).decode()


def plan_once(request: GenerationRequest, cache: DecodedCache) -> float:
    start = time.perf_counter()
    references = cache.load(request.image_urls, SERVER)
    make_plan(request, references, get_engine("motion"))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    images = [photo(i) for i in range(args.images)]
    mb = sum(len(i) for i in images) / 1e6
    request = GenerationRequest(
        prompt="@1 wide, slow push in. Then a close-up of image 2. Cut to the last image, pan right.",
        image_urls=images, seed=42,
    )
    kept = DecodedCache()
    plan_once(request, kept)  # the first plan decodes (and fills the cache)
    cold, warm = [], []
    for _ in range(args.repeat):
        cold.append(plan_once(request, DecodedCache()))
        warm.append(plan_once(request, kept))
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"{args.images} × 4000×3000 JPEG ({mb:.1f} MB base64), median of {args.repeat}")
    print(f"decode + plan, nothing kept : {c * 1000:7.0f} ms")
    print(f"decode + plan, decoded kept : {w * 1000:7.0f} ms")
    print(f"ratio                       : {c / w:7.2f}×")


if __name__ == "__main__":
    main()
