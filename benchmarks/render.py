"""Render speed and memory of the motion engine against encoding the same frames alone.

Run by hand: ``.venv/bin/python benchmarks/render.py [--repeat 3] [--layered]``. For 5 s and 10 s at
1080p with the three bundled references it prints wall time, ms per frame and peak RSS of a
full render (``refvid.generate.generate``), and the same frames encoded alone with the same
encoder settings (frames rendered beforehand into memory), measured in the same run. Each
measurement runs in a fresh process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
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


def _request(duration: int, prompt: str = PROMPT):  # type: ignore[no-untyped-def]
    from refvid.request import GenerationRequest

    paths = [str(resources.files("refvid.demo") / name) for name in DEMO]
    return GenerationRequest(prompt=prompt, image_urls=paths, duration=duration, seed=1234)  # type: ignore[arg-type]


def _measure(mode: str, duration: int, prompt: str = PROMPT) -> dict[str, float]:
    """One measurement in this process (called in a child)."""
    from refvid.engines import get_engine
    from refvid.generate import generate
    from refvid.media.encode import encode_video
    from refvid.references.load import CLI, load_references

    request = _request(duration, prompt)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "v.mp4"
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


def _child(mode: str, duration: int, prompt: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(duration), "--prompt", prompt],
        capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "DURATION"))
    parser.add_argument("--layered", action="store_true", help="a composite shot and parallax (issue 13)")
    parser.add_argument("--prompt", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    prompt = args.prompt or (LAYERED_PROMPT if args.layered else PROMPT)
    if args.child:
        print(json.dumps(_measure(args.child[0], int(args.child[1]), prompt)))
        return
    print(f"{'clip':>6} {'what':>14} {'wall s':>8} {'ms/frame':>9} {'peak RSS MB':>12} {'vs encode':>10}")
    for duration in (5, 10):
        runs: dict[str, list[dict[str, float]]] = {"encode alone": [], "full render": []}
        for _ in range(args.repeat):  # interleaved so load changes hit both alike
            runs["encode alone"].append(_child("encode", duration, prompt))
            runs["full render"].append(_child("render", duration, prompt))
        base = statistics.median(r["seconds"] for r in runs["encode alone"])
        for what, results in runs.items():
            seconds = statistics.median(r["seconds"] for r in results)
            frames = results[0]["frames"]
            rss = max(r["peak_rss_mb"] for r in results)
            rss_text = f"{rss:12.0f}" if what == "full render" else f"{'(frames held)':>12}"
            print(f"{duration:>5}s {what:>14} {seconds:8.2f} {seconds / frames * 1000:9.1f} {rss_text} {seconds / base:9.2f}x")


if __name__ == "__main__":
    main()
