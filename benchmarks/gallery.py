"""Contact sheets to look at: fixed requests from the bundled demo photos, rendered by the motion engine.

Run: .venv/bin/python benchmarks/gallery.py [--out DIR] [--only NAME]

For each request a PNG sheet is written: a frame every half second (in order, left to
right), then a row with each analysed reference, its matte, its subject on white and its
filled plate. The folder is printed; nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from refvid.engines.motion.render import MotionEngine
from refvid.references import Reference
from refvid.request import GenerationRequest
from refvid.vision.cutout import cutout

DEMO = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
REQUESTS = {
    "composite": "The astronaut from image 1 stands at the table of image 2, slow push in. "
                 "Then back to the astronaut, pan right.",
    "parallax": "Image 1, the astronaut, truck left. Then the coffee, image 2, push in. "
                "Then image 1 again, crane up. Large movement.",
    "blend": "Blend the astronaut and the coffee into one scene, orbit. Then the cat, image 3, push in.",
    "life": "Image 1, the astronaut smiles, slow push in, golden hour sunlight with drifting dust. Vintage film grain.",
}
THUMB_W = 384


def _references() -> list[Reference]:
    refs = []
    for i, name in enumerate(DEMO):
        with Image.open(str(resources.files("refvid.demo") / name)) as image:
            refs.append(Reference(i, np.asarray(image.convert("RGB")), name))
    return refs


def _thumb(rgb: np.ndarray) -> np.ndarray:
    h = round(rgb.shape[0] * THUMB_W / rgb.shape[1])
    return cv2.resize(rgb, (THUMB_W, h), interpolation=cv2.INTER_AREA)


def _grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    padded = [np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=24) for t in tiles]
    while len(padded) % columns:
        padded.append(np.full_like(padded[0], 24))
    rows = [np.concatenate(padded[i : i + columns], axis=1) for i in range(0, len(padded), columns)]
    return np.concatenate(rows, axis=0)


def sheet(name: str, prompt: str, references: list[Reference], out: Path) -> Path:
    """Render one request and write its contact sheet; return the PNG's path."""
    request = GenerationRequest(prompt=prompt, image_urls=["x"] * len(references), seed=42)
    engine = MotionEngine()
    start = time.perf_counter()
    plan = engine.plan(request, references)
    frames = []
    for index, frame in enumerate(engine.render(plan, request, references)):
        if index % (plan.spec.fps // 2) == 0:
            frames.append(_thumb(cv2.cvtColor(frame, cv2.COLOR_YUV2RGB_I420)))
    seconds = time.perf_counter() - start
    analysis = []
    for reference in references:
        cut = cutout(reference.image)
        matte = np.dstack([(np.asarray(cut.matte) * 255).astype(np.uint8)] * 3)
        analysis += [_thumb(reference.image), _thumb(matte), _thumb(cut.on_background((255, 255, 255))),
                     _thumb(np.asarray(cut.plate))]
    top, bottom = _grid(frames, 5), _grid(analysis, 4)
    bottom = np.pad(bottom, ((0, 0), (0, top.shape[1] - bottom.shape[1]), (0, 0)), constant_values=24)
    picture = np.concatenate([top, np.full((12, top.shape[1], 3), 24, np.uint8), bottom], axis=0)
    path = out / f"{name}.png"
    Image.fromarray(picture).save(path)
    modes = [s["layers"]["mode"] for s in plan.details["shots"]]  # type: ignore[index]
    print(f"{name}: {len(frames)} frames sampled, shots {modes}, {seconds:.1f} s -> {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", default=None, choices=sorted(REQUESTS))
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="refvid-gallery-"))
    out.mkdir(parents=True, exist_ok=True)
    references = _references()
    for name, prompt in REQUESTS.items():
        if args.only in (None, name):
            sheet(name, prompt, references, out)
    print(f"sheets in {out}")


if __name__ == "__main__":
    main()
