"""Wan engine on a GPU: seconds per step, total seconds and peak VRAM for a 5 s 480p clip.

Run by hand on a CUDA machine with the weights (REFVID_WAN_MODEL pointing at them):

    REFVID_WAN_MODEL=/models/Wan2.1-VACE-1.3B-diffusers .venv/bin/python benchmarks/wan_gpu.py

Each variant (offload mode, VAE tiling) loads its own pipeline and renders the same
request (seed 1, two references, 16:9, 5 s); the table gives each one's ratio to the
first variant, measured in the same run. Without CUDA or weights it says so and exits 0.
``--device cpu`` runs the same measurement on the CPU (e.g. on tiny test weights) to
check the script itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from refvid.references import Reference


@dataclass
class Result:
    """One variant's measurement."""

    name: str
    load_seconds: float
    step_seconds: float
    denoise_seconds: float
    finish_seconds: float  # VAE decode + retime + upscale + I420
    total_seconds: float
    peak_vram_gb: float | None


def _references() -> list[Reference]:

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (720, 960, 3), dtype=np.uint8) for _ in range(2)]
    return [Reference(index=i, image=image, label=f"bench-{i}") for i, image in enumerate(images)]


def _measure(name: str, overrides: dict[str, object], steps: int | None) -> Result:
    import torch

    from refvid.engines.wan import load_settings, load_wan_engine
    from refvid.engines.wan.loading import clear_cache
    from refvid.request import GenerationRequest

    clear_cache()
    settings = load_settings().model_copy(update=overrides)
    if steps is not None:
        settings = settings.model_copy(update={"steps": steps})
    cuda = torch.cuda.is_available() and settings.device != "cpu"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    engine = load_wan_engine(settings)
    engine.warm()
    loaded = time.perf_counter()
    request = GenerationRequest.model_validate(
        {
            "prompt": "A man sits on a park bench reading a book, then looks up and smiles.",
            "image_urls": ["bench-0", "bench-1"],
            "seed": 1,
        }
    )
    references = _references()
    plan = engine.plan(request, references)
    step_times: list[float] = []

    def progress(value: float) -> None:
        if value <= 0.9 and len(step_times) < settings.steps:
            step_times.append(time.perf_counter())

    frames = 0
    for _ in engine.render(plan, request, references, progress=progress):
        frames += 1
    if cuda:
        torch.cuda.synchronize()
    finished = time.perf_counter()
    assert frames == plan.spec.frame_count
    denoise_end = step_times[-1] if step_times else loaded
    steps_done = max(1, len(step_times) - 1)
    return Result(
        name=name,
        load_seconds=loaded - started,
        # Step 1 also encodes the prompt and the references; later steps are the steady rate.
        step_seconds=(step_times[-1] - step_times[0]) / steps_done
        if len(step_times) > 1
        else float("nan"),
        denoise_seconds=denoise_end - loaded,
        finish_seconds=finished - denoise_end,
        total_seconds=finished - loaded,
        peak_vram_gb=torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
    )


VARIANTS: dict[str, dict[str, object]] = {
    "offload=none": {"offload": "none", "vae_tiling": False},
    "offload=none+tiling": {"offload": "none", "vae_tiling": True},
    "offload=none+t5cpu+tiling": {
        "offload": "none",
        "vae_tiling": True,
        "text_encoder_on_cpu": True,
    },
    "offload=model": {"offload": "model", "vae_tiling": False},
    "offload=group+tiling": {"offload": "group", "vae_tiling": True},
}


def main() -> int:
    """Measure each variant and print a table; exit 0 when there is nothing to measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=None, help="override REFVID_WAN_STEPS")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    parser.add_argument(
        "--device", default=None, help="override REFVID_WAN_DEVICE (cpu: script check)"
    )
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("wan_gpu: torch is not installed (pip install 'refvid[wan]'); nothing to measure")
        return 0
    from refvid.engines.wan import load_settings, load_wan_engine
    from refvid.errors import EngineUnavailable

    if args.device:
        os.environ["REFVID_WAN_DEVICE"] = args.device
    if args.device != "cpu" and not torch.cuda.is_available():
        print("wan_gpu: no CUDA device on this machine; nothing to measure (run it on a GPU host)")
        return 0
    try:
        load_wan_engine(load_settings())
    except EngineUnavailable as exc:
        print(f"wan_gpu: cannot run here: {exc}")
        return 0

    settings = load_settings()
    device_name = torch.cuda.get_device_name() if args.device != "cpu" else "cpu"
    print(f"model {settings.model} on {device_name}, torch {torch.__version__}")
    print(
        f"steps {args.steps or settings.steps}, resolution {settings.base_size}, dtype {settings.dtype}"
    )
    results: list[Result] = []
    for name in args.variants.split(","):
        overrides = VARIANTS[name]
        if args.device == "cpu" and overrides["offload"] != "none":
            continue
        try:
            results.append(_measure(name, overrides, args.steps))
        except EngineUnavailable as exc:  # e.g. out of memory without offloading
            print(f"{name}: {exc}")
    if not results:
        return 0
    base = results[0]
    print(
        f"{'variant':24} {'load s':>7} {'s/step':>8} {'denoise s':>10} {'finish s':>9} {'total s':>8} {'x base':>7} {'peak GB':>8}"
    )
    for r in results:
        vram = f"{r.peak_vram_gb:8.2f}" if r.peak_vram_gb is not None else f"{'n/a':>8}"
        print(
            f"{r.name:24} {r.load_seconds:7.1f} {r.step_seconds:8.3f} {r.denoise_seconds:10.1f} "
            f"{r.finish_seconds:9.1f} {r.total_seconds:8.1f} {r.total_seconds / base.total_seconds:7.2f} {vram}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
