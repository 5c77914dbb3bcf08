"""Choose x264's preset and CRF by measurement, on frames the motion engine really makes.

Run by hand: ``.venv/bin/python benchmarks/encoder.py``. Renders 3 s of a 1080p clip with
the bundled references (a crossfade, a push-in and a blurred canvas extension included),
then encodes it with each preset and CRF and prints encode speed, bitrate, and PSNR and
SSIM of the decoded luma against the frames that went in.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from importlib import resources
from pathlib import Path

import av
import cv2
import numpy as np

from refvid.engines.base import VideoSpec
from refvid.engines.motion import MotionEngine
from refvid.media.color import i420_planes
from refvid.media.encode import DEFAULT_SETTINGS, encode_video
from refvid.references.load import CLI, load_references
from refvid.request import GenerationRequest


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two luma planes (Gaussian window, sigma 1.5)."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    blur = lambda img: cv2.GaussianBlur(img, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float((((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presets", default="superfast,veryfast,faster,fast,medium")
    parser.add_argument("--crfs", default="16,18,20,23")
    args = parser.parse_args()
    paths = [str(resources.files("refvid.demo") / n) for n in ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")]
    request = GenerationRequest(
        prompt="The astronaut, slow push in, then the coffee, then the cat, pan left. Warm.",
        image_urls=paths, seed=99,
    )
    references = load_references(paths, CLI)
    engine = MotionEngine()
    plan = engine.plan(request, references)
    frames = list(engine.render(plan, request, references))[:72]
    spec = VideoSpec(plan.spec.width, plan.spec.height, len(frames))
    sources = [i420_planes(f)[0] for f in frames]
    print(f"{'preset':>10} {'crf':>4} {'fps':>6} {'Mbit/s':>7} {'PSNR-Y':>7} {'SSIM-Y':>7} {'min SSIM':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.mp4"
        for preset in args.presets.split(","):
            for crf in (int(c) for c in args.crfs.split(",")):
                settings = replace(DEFAULT_SETTINGS, preset=preset, crf=crf)
                started = time.perf_counter()
                encode_video(frames, spec, out, settings=settings)
                seconds = time.perf_counter() - started
                with av.open(str(out)) as container:
                    decoded = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
                psnrs, ssims = [], []
                for i in range(0, len(frames), 6):
                    y = i420_planes(decoded[i])[0]
                    psnrs.append(cv2.PSNR(sources[i], y))
                    ssims.append(ssim(sources[i], y))
                mbits = out.stat().st_size * 8 / (len(frames) / spec.fps) / 1e6
                print(f"{preset:>10} {crf:>4} {len(frames) / seconds:6.1f} {mbits:7.2f} {np.mean(psnrs):7.2f} "
                      f"{np.mean(ssims):7.4f} {min(ssims):8.4f}")


if __name__ == "__main__":
    main()
