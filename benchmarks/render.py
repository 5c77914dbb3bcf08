"""Render speed and memory of the motion engine against encoding the same frames alone.

Run by hand: ``.venv/bin/python benchmarks/render.py [--repeat 3] [--references mixed|demo]``.
For 5 s and 10 s at 1080p it prints wall time, ms per frame and peak RSS of a full render
and the same frames encoded alone with the same encoder settings (frames rendered
beforehand into memory), measured in the same run. Each measurement runs in a fresh process
so peak RSS is its own.

``mixed`` (the default, issue 8): three references as users send them, a 12 MP JPEG, a
small PNG and a WebP, rendered by the CLI (``python -m refvid.cli generate``) in a fresh
process, so decoding, analysis, planning and start-up all count. ``demo``: the three bundled
photos through ``refvid.generate.generate`` (issue 2's measurement). ``--layered``: the demo
photos with one composite shot and parallax in the others (issue 13).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

DEMO = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
PROMPT = "The astronaut smiles, then a close-up of the coffee, then the cat looks up. Warm light."


# --layered: one composite shot, parallax in the others where a cut-out exists (issue 13).
LAYERED_PROMPT = ("The astronaut from image 1 stands at the table of image 2, slow push in. "
                  "Then the coffee, image 2, truck left. Then back to image 1, pan right.")
MIXED_PROMPT = "The astronaut smiles, then the cat looks up, then a close-up of the coffee. Warm light."


def _mixed_references(folder: Path) -> list[str]:
    """A 12 MP JPEG, a small PNG and a 1600 px WebP made from the demo photos (deterministic)."""
    import cv2
    import numpy as np
    from PIL import Image

    def demo(name: str) -> np.ndarray:
        return np.asarray(Image.open(str(resources.files("refvid.demo") / name)).convert("RGB"))

    rng = np.random.default_rng(8)
    big = cv2.resize(demo("astronaut.jpg"), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    # Camera-like grain, so the JPEG is as large and as slow to decode as a real 12 MP photo.
    big = np.clip(big.astype(np.int16) + rng.integers(-6, 7, big.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    paths = [folder / "astronaut_12mp.jpg", folder / "cat_small.png", folder / "coffee.webp"]
    Image.fromarray(big).save(paths[0], quality=92)
    Image.fromarray(cv2.resize(demo("chelsea.jpg"), (320, 213), interpolation=cv2.INTER_AREA)).save(paths[1])
    Image.fromarray(cv2.resize(demo("coffee.jpg"), (1600, 1067), interpolation=cv2.INTER_CUBIC)).save(paths[2], quality=90)
    return [str(p) for p in paths]


def _request(duration: int, paths: list[str] | None = None, prompt: str | None = None):  # type: ignore[no-untyped-def]
    from refvid.request import GenerationRequest

    prompt = prompt or (MIXED_PROMPT if paths else PROMPT)
    paths = paths or [str(resources.files("refvid.demo") / name) for name in DEMO]
    return GenerationRequest(prompt=prompt, image_urls=paths, duration=duration, seed=1234)  # type: ignore[arg-type]


def _measure(mode: str, duration: int, folder: str | None = None, prompt: str | None = None) -> dict[str, float]:
    """One measurement in this process (called in a child)."""
    from refvid.engines import get_engine
    from refvid.generate import generate
    from refvid.media.encode import encode_video
    from refvid.references.load import CLI, load_references

    paths = sorted(str(p) for p in Path(folder).iterdir()) if folder else None
    request = _request(duration, paths, prompt)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "v.mp4"
        if mode == "cli":
            command = [sys.executable, "-m", "refvid.cli", "generate", "-p", request.prompt, "-o", str(out),
                       "-d", str(duration), "-s", str(request.seed)]
            for path in request.image_urls:
                command += ["-i", path]
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            seconds = time.perf_counter() - started
            rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            return {"seconds": seconds, "frames": request.frame_count, "peak_rss_mb": rss_mb}
        if mode == "render":
            started = time.perf_counter()
            generate(request, out, policy=CLI)
            seconds = time.perf_counter() - started
        else:
            references = load_references(request.image_urls, CLI)
            engine = get_engine("motion")
            plan = engine.plan(request, references)
            frames = list(engine.render(plan, request, references))
            started = time.perf_counter()
            encode_video(frames, plan.spec, out)
            seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "frames": request.frame_count, "peak_rss_mb": rss_mb}


def _child(mode: str, duration: int, folder: str | None, prompt: str | None) -> dict[str, float]:
    extra = (["--folder", folder] if folder else []) + (["--prompt", prompt] if prompt else [])
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(duration), *extra], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--references", choices=["mixed", "demo"], default="mixed")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DURATION"))
    parser.add_argument("--layered", action="store_true", help="demo photos, a composite shot and parallax (issue 13)")
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--prompt", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child[0], int(args.child[1]), args.folder, args.prompt)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = None
        prompt = LAYERED_PROMPT if args.layered else None
        if args.references == "mixed" and not args.layered:
            _mixed_references(Path(tmp))
            folder = tmp
        _table(args.repeat, folder, prompt)


def _table(repeat: int, folder: str | None, prompt: str | None) -> None:
    render_mode = "cli" if folder else "render"
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'clip':>6} {'what':>14} {'wall s':>8} {'ms/frame':>9} {'peak RSS MB':>12} {'vs encode':>10}")
    for duration in (5, 10):
        runs: dict[str, list[dict[str, float]]] = {"encode alone": [], "full render": []}
        for _ in range(repeat):  # interleaved so load changes hit both alike
            runs["encode alone"].append(_child("encode", duration, folder, prompt))
            runs["full render"].append(_child(render_mode, duration, folder, prompt))
        base = statistics.median(r["seconds"] for r in runs["encode alone"])
        for what, results in runs.items():
            seconds = statistics.median(r["seconds"] for r in results)
            frames = results[0]["frames"]
            rss = max(r["peak_rss_mb"] for r in results)
            rss_text = f"{rss:12.0f}" if what == "full render" else f"{'(frames held)':>12}"
            print(f"{duration:>5}s {what:>14} {seconds:8.2f} {seconds / frames * 1000:9.1f} {rss_text} {seconds / base:9.2f}x")


if __name__ == "__main__":
    main()
