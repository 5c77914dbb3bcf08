"""Wan engine on a GPU: seconds per step, peak VRAM and host RSS per offload mode, clip wall time.

Ready for the first GPU, with nothing downloaded: ``--random-weights 1.3b`` or ``14b``
builds the full-size Wan2.1-VACE architectures (VACE transformer, UMT5-XXL text encoder,
Wan VAE) from their published configs with random weights. Speed and memory do not
depend on the values, so this measures what the real checkpoints will cost:

    .venv/bin/python benchmarks/wan_gpu.py --random-weights 1.3b
    .venv/bin/python benchmarks/wan_gpu.py --random-weights 14b
    REFVID_WAN_MODEL=/models/wan .venv/bin/python benchmarks/wan_gpu.py   # real weights

Each setting runs in its own process (clean peak VRAM and RSS) and prints one JSON line:
``step-480p`` / ``step-720p`` give seconds per denoising step (guidance on: two passes);
``clip-<offload>[-tiling]`` renders a whole 5 s request through ``generate`` (denoise,
VAE decode, retiming, upscale, MP4 encoding) at the model's default size and gives
peak VRAM, peak host RSS, the text encoder's memory before and after encoding, and the
wall time, measured with ``--steps`` steps and extrapolated to the default 50. Settings
that would overrun ``--budget`` seconds are printed as skipped, so a run stays under 10
minutes. Without CUDA it says so and exits 0; ``--random-weights tiny`` runs on the CPU
(tiny architectures) to check the script itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROMPT = "A man sits on a park bench reading a book, then looks up and smiles at the camera."
DEFAULT_STEPS = 50  # the VACE authors' steps, the default of REFVID_WAN_STEPS

# Published configs: the diffusers-format transformer configs of Wan-AI/Wan2.1-VACE-1.3B and
# -14B (the 14B one is also WanVACETransformer3DModel's defaults) and google/umt5-xxl's encoder.
TRANSFORMERS: dict[str, dict[str, Any]] = {
    "1.3b": {
        "num_attention_heads": 12,
        "attention_head_dim": 128,
        "ffn_dim": 8960,
        "num_layers": 30,
        "vace_layers": list(range(0, 30, 2)),
    },
    "14b": {
        "num_attention_heads": 40,
        "attention_head_dim": 128,
        "ffn_dim": 13824,
        "num_layers": 40,
        "vace_layers": list(range(0, 40, 5)),
    },
    "tiny": {
        "num_attention_heads": 2,
        "attention_head_dim": 8,
        "ffn_dim": 32,
        "num_layers": 2,
        "vace_layers": [0],
        "in_channels": 4,
        "out_channels": 4,
        "text_dim": 16,
        "freq_dim": 16,
        "rope_max_seq_len": 32,
        "vace_in_channels": 2 * 4 + 64,
    },
}
UMT5_XXL: dict[str, Any] = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
}
UMT5_TINY: dict[str, Any] = {
    "vocab_size": 64,
    "d_model": 16,
    "d_kv": 4,
    "d_ff": 32,
    "num_layers": 1,
    "num_heads": 2,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 16,
}
# AutoencoderKLWan's defaults are the Wan2.1 VAE; the tiny one keeps its 8x/4x compression.
VAE_TINY: dict[str, Any] = {
    "base_dim": 4,
    "z_dim": 4,
    "dim_mult": [1, 1, 1, 1],
    "num_res_blocks": 1,
    "latents_mean": [0.0] * 4,
    "latents_std": [1.0] * 4,
}
# Resolutions per model kind: the two documented ones, and small stand-ins for tiny.
RESOLUTIONS = {"1.3b": ("480p", "720p"), "14b": ("480p", "720p"), "tiny": ("48x32", "64x48")}
OFFLOADS = ("none", "group", "model")


def settings_list(kind: str) -> list[dict[str, Any]]:
    """The settings to measure, most informative first (later ones are skipped on overrun)."""
    low, high = RESOLUTIONS[kind]
    default = high if kind == "14b" else low
    settings: list[dict[str, Any]] = [
        {
            "name": f"step-{low}",
            "resolution": low,
            "offload": "none",
            "tiling": False,
            "clip": False,
        },
        {
            "name": f"step-{high}",
            "resolution": high,
            "offload": "none",
            "tiling": False,
            "clip": False,
        },
    ]
    for tiling in (False, True):
        for offload in OFFLOADS:
            settings.append(
                {
                    "name": f"clip-{offload}{'-tiling' if tiling else ''}",
                    "resolution": default,
                    "offload": offload,
                    "tiling": tiling,
                    "clip": True,
                }
            )
    return settings


def build_pipeline(kind: str, dtype: Any, vae_dtype: Any, device: str) -> Any:
    """A WanVACEPipeline of the given size with random weights, made on ``device``.

    Parameters are created empty (no CPU initialisation of billions of weights) and filled
    on the device; buffers (rotary tables) are computed as usual.
    """
    import torch
    from accelerate import init_empty_weights
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    with init_empty_weights():
        transformer = WanVACETransformer3DModel(**TRANSFORMERS[kind])
        text_encoder = UMT5EncoderModel(UMT5Config(**(UMT5_TINY if kind == "tiny" else UMT5_XXL)))
        vae = AutoencoderKLWan(**(VAE_TINY if kind == "tiny" else {}))
    text_encoder.tie_weights()  # one embedding, as from_pretrained leaves it
    # "meta" builds the architecture only (tests count its parameters).
    generator = None if device == "meta" else torch.Generator(device=device).manual_seed(0)
    for module, module_dtype in ((transformer, dtype), (text_encoder, dtype), (vae, vae_dtype)):
        _materialize(module, module_dtype, device, generator)
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=16.0
    )
    return WanVACEPipeline(
        tokenizer=_tokenizer(text_encoder.config.vocab_size),
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=scheduler,
    )


def _materialize(model: Any, dtype: Any, device: str, generator: Any) -> None:
    import torch

    made: dict[int, Any] = {}  # tied weights (UMT5's shared embedding) stay one tensor
    for module in model.modules():
        for name, parameter in list(module._parameters.items()):
            if parameter is None or parameter.device.type != "meta":
                continue
            if id(parameter) in made:
                module._parameters[name] = made[id(parameter)]
                continue
            data = torch.empty(parameter.shape, dtype=dtype, device=device)
            if data.ndim > 1:
                data.normal_(0.0, 0.02, generator=generator)
            elif name == "weight":  # norm scales
                data.fill_(1.0)
            else:
                data.zero_()
            made[id(parameter)] = torch.nn.Parameter(data, requires_grad=False)
            module._parameters[name] = made[id(parameter)]
    model.to(device)  # buffers


def _tokenizer(vocab_size: int) -> Any:
    """A word-level tokenizer over the prompt's words (the text length is padded to 512 anyway)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = sorted({w.strip(".,").lower() for w in PROMPT.split()})
    vocab = ["<pad>", "</s>", "<unk>", *words][:vocab_size]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def _rss_gb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**30


def _memory_gb(cuda: bool) -> float:
    import torch

    return torch.cuda.memory_allocated() / 2**30 if cuda else _rss_gb()


def measure(kind: str | None, setting: dict[str, Any], steps: int) -> dict[str, Any]:
    """Run one setting in this process; the JSON-able result."""
    import numpy as np
    import torch

    from refvid.engines.wan import load_settings
    from refvid.engines.wan.engine import WanEngine
    from refvid.engines.wan.loading import Resolved, adopt_pipeline, encode_prompts, place, resolve
    from refvid.generate import generate
    from refvid.references import Reference
    from refvid.request import GenerationRequest

    torch.set_num_threads(1 if kind == "tiny" else torch.get_num_threads())
    cuda = kind != "tiny" and torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    overrides: dict[str, Any] = {
        "device": device,
        "resolution": setting["resolution"],
        "offload": setting["offload"],
        "vae_tiling": setting["tiling"],
        "steps": steps,
    }
    if kind is not None:
        overrides["model"] = f"random-wan2.1-vace-{kind}"
    if not cuda:
        overrides.update(dtype="float32", vae_dtype="float32")
    settings = load_settings().model_copy(update=overrides)
    started = time.perf_counter()
    if kind is None:  # real weights through the engine's own loading path
        resolved = resolve(settings)
        engine = WanEngine(settings, resolved)
        engine.warm()
    else:
        dtype, vae_dtype = getattr(torch, settings.dtype), getattr(torch, settings.vae_dtype)
        try:  # filling billions of random values is fast on the GPU, minutes on a CPU
            pipe = build_pipeline(kind, dtype, vae_dtype, device)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            pipe = build_pipeline(kind, dtype, vae_dtype, "cpu")
        if settings.offload != "none":
            pipe.to("cpu")  # offloaded weights start in RAM, as from_pretrained leaves them
            if cuda:
                torch.cuda.empty_cache()
        place(pipe, settings, device)
        adopt_pipeline(settings, pipe)
        small = {"16:9": (128, 72)} if kind == "tiny" else None
        engine = WanEngine(settings, Resolved(model_dir="random weights", device=device), small)
    from refvid.engines.wan.loading import get_pipeline

    pipe = get_pipeline(settings, engine.resolved)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    built = time.perf_counter()
    result: dict[str, Any] = {
        "setting": setting["name"],
        "model": settings.model,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "resolution": settings.base_size,
        "offload": settings.offload,
        "vae_tiling": settings.vae_tiling,
        "steps_run": steps,
        "build_seconds": round(built - started, 2),
    }
    text_before = _memory_gb(cuda)
    encode_started = time.perf_counter()
    encode_prompts(settings, pipe, PROMPT, settings.negative_prompt)
    result["text_encode_seconds"] = round(time.perf_counter() - encode_started, 3)
    result["text_encoder_memory_gb"] = {
        "before": round(text_before, 3),
        "after": round(_memory_gb(cuda), 3),
        "peak": round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None,
    }
    step_times: list[float] = []

    def progress(value: float) -> None:
        if value <= 0.9 + 1e-9 and len(step_times) < steps:
            step_times.append(time.perf_counter())

    rng = np.random.default_rng(0)
    references = [
        Reference(index=i, image=rng.integers(0, 256, (720, 960, 3), dtype=np.uint8), label=f"r{i}")
        for i in range(2)
    ]
    request = GenerationRequest.model_validate(
        {"prompt": PROMPT, "image_urls": ["r0", "r1"], "seed": 1, "duration": 5}
    )
    render_started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        if setting["clip"]:
            generate(
                request,
                Path(folder) / "clip.mp4",
                engine=engine,
                references=references,
                progress=progress,
            )
        else:
            plan = engine.plan(request, references)
            native = engine._native_frames(plan, references, progress, None)
            del native
    if cuda:
        torch.cuda.synchronize()
    finished = time.perf_counter()
    # Step 1 also encodes the references and the conditioning; later steps are the steady rate.
    step_seconds = (
        (step_times[-1] - step_times[0]) / (len(step_times) - 1) if len(step_times) > 1 else None
    )
    result["step_seconds"] = round(step_seconds, 4) if step_seconds is not None else None
    result["wall_seconds"] = round(finished - render_started, 2)
    if setting["clip"] and step_seconds is not None:
        extra = (DEFAULT_STEPS - steps) * step_seconds
        result["clip_seconds_at_50_steps"] = round(finished - render_started + extra, 1)
    result["peak_vram_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None
    result["peak_host_rss_gb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3
    )
    return result


def main() -> int:
    """Measure each setting in a child process; one JSON line each; exit 0 with nothing to measure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--random-weights", choices=("1.3b", "14b", "tiny"), default=None)
    parser.add_argument(
        "--steps", type=int, default=2, help="denoising steps run per setting (>= 2 to time a step)"
    )
    parser.add_argument(
        "--budget", type=float, default=480.0, help="seconds before skipping the rest"
    )
    parser.add_argument("--only", default="", help="comma-separated setting names")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    kind = args.random_weights
    if args.child is not None:
        print(json.dumps(measure(kind, json.loads(args.child), args.steps)), flush=True)
        return 0
    try:
        import torch
    except ImportError:
        print("wan_gpu: torch is not installed (pip install 'refvid[wan]'); nothing to measure")
        return 0
    if kind != "tiny" and not torch.cuda.is_available():
        print(
            "wan_gpu: no CUDA device on this machine; nothing to measure "
            "(run it on a GPU host; --random-weights tiny checks the script on the CPU)"
        )
        return 0
    if kind is None:
        from refvid.engines.wan import load_settings, load_wan_engine
        from refvid.errors import EngineUnavailable

        try:
            load_wan_engine(load_settings())
        except EngineUnavailable as exc:
            print(f"wan_gpu: cannot run here: {exc}")
            return 0
    settings = settings_list(kind or "1.3b")
    if kind == "tiny":  # no offloading without CUDA
        settings = [s for s in settings if s["offload"] == "none"]
    if args.only:
        wanted = set(args.only.split(","))
        settings = [s for s in settings if s["name"] in wanted]
    started = time.perf_counter()
    longest = 0.0
    failures = 0
    for setting in settings:
        elapsed = time.perf_counter() - started
        if elapsed + longest > args.budget:
            print(
                json.dumps(
                    {"setting": setting["name"], "skipped": f"time budget ({args.budget:.0f} s)"}
                )
            )
            continue
        command = [
            sys.executable,
            __file__,
            "--steps",
            str(args.steps),
            "--child",
            json.dumps(setting),
        ]
        if kind is not None:
            command += ["--random-weights", kind]
        child_started = time.perf_counter()
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        longest = max(longest, time.perf_counter() - child_started)
        lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
        if child.returncode == 0 and lines:
            print(lines[-1], flush=True)
            continue
        failures += 1
        tail = (child.stderr.strip().splitlines() or ["no output"])[-1]
        print(json.dumps({"setting": setting["name"], "error": tail[:500]}), flush=True)
    return 1 if failures and kind == "tiny" else 0


if __name__ == "__main__":
    sys.exit(main())
