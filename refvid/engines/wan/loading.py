"""Finding the extra, the device and the weights, and keeping one warm pipeline per process.

Everything heavy is imported inside functions so ``refvid.engines.wan`` imports (and
its settings can be read) without torch installed; a missing extra surfaces as
:class:`EngineUnavailable` with the install command.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refvid.engines.wan.config import WanSettings
from refvid.errors import EngineUnavailable

log = logging.getLogger(__name__)

REQUIRED_MODULES = ("torch", "diffusers", "transformers", "accelerate", "ftfy")
INSTALL_HINT = "pip install torch==2.13.0 && pip install 'refvid[wan]'"

_lock = threading.Lock()
# A pipeline keeps per-call state (_interrupt, guidance): one render at a time uses it.
render_lock = threading.Lock()
_pipelines: dict[str, Any] = {}
# Text tokens Wan was trained with (the pipeline's __call__ default; encode_prompt's is 226).
TEXT_TOKENS = 512
# Negative-prompt embeddings per (pipeline key, text): the same for every job, so encoded once.
_negative_embeds: dict[tuple[str, str], Any] = {}


@dataclass(frozen=True)
class Resolved:
    """What loading needs once the settings have been checked against this machine."""

    model_dir: str
    device: str


def check_extra() -> None:
    """Raise EngineUnavailable naming the first missing module of the ``wan`` extra."""
    for name in REQUIRED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise EngineUnavailable(
                f"the wan engine needs the optional extra (module {name!r} is missing: {exc}); "
                f"install it with: {INSTALL_HINT}"
            ) from exc


def resolve_device(requested: str) -> str:
    """The torch device to run on; refuses to silently fall back to the CPU."""
    import torch

    requested = requested.strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        raise EngineUnavailable(
            "the wan engine needs a GPU (CUDA; about 8 GB of VRAM for the 1.3B model at 480p) and none "
            "was found; use --engine motion, or set REFVID_WAN_DEVICE=cpu to run on the CPU anyway "
            "(hours per clip)"
        )
    if requested == "cpu":
        return "cpu"
    if requested == "mps":
        if not torch.backends.mps.is_available():
            raise EngineUnavailable(
                "REFVID_WAN_DEVICE=mps but this machine has no usable MPS device"
            )
        return "mps"
    if requested == "cuda" or requested.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise EngineUnavailable(
                f"REFVID_WAN_DEVICE={requested} but torch sees no CUDA device (CPU-only torch build, no "
                "driver, or CUDA_VISIBLE_DEVICES empty); install a CUDA build of torch or set "
                "REFVID_WAN_DEVICE=auto"
            )
        index = requested.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise EngineUnavailable(
                f"REFVID_WAN_DEVICE={requested} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        return requested
    raise EngineUnavailable(
        f"REFVID_WAN_DEVICE={requested!r} is not one of auto, cuda, cuda:N, mps, cpu"
    )


def resolve_model_dir(settings: WanSettings) -> str:
    """A local diffusers-layout directory for ``settings.model``; never downloads unless allowed."""
    path = Path(settings.model).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise EngineUnavailable(
                f"REFVID_WAN_MODEL={settings.model}: the directory has no model_index.json; point it "
                "at a diffusers-layout checkpoint such as Wan-AI/Wan2.1-VACE-1.3B-diffusers"
            )
        return str(path)
    if settings.is_local_path:
        raise EngineUnavailable(
            f"REFVID_WAN_MODEL={settings.model}: no such directory; download the weights "
            "(huggingface-cli download Wan-AI/Wan2.1-VACE-1.3B-diffusers --local-dir DIR) and set "
            "REFVID_WAN_MODEL=DIR"
        )
    from huggingface_hub import snapshot_download

    try:
        return str(snapshot_download(settings.model, local_files_only=not settings.allow_download))
    except Exception as exc:
        if settings.allow_download:
            raise EngineUnavailable(
                f"REFVID_WAN_MODEL={settings.model}: download failed: {exc}"
            ) from exc
        raise EngineUnavailable(
            f"REFVID_WAN_MODEL={settings.model} is neither a directory nor in the local Hugging Face "
            f"cache; download it (huggingface-cli download {settings.model}), or set "
            "REFVID_WAN_ALLOW_DOWNLOAD=1 to let refvid fetch it"
        ) from exc


def resolve(settings: WanSettings) -> Resolved:
    """Check extra, device and weights without loading anything big."""
    check_extra()
    if settings.text_encoder_on_cpu and settings.offload == "model":
        # Model offload would hook the encoder and move it to the GPU for every prompt.
        raise EngineUnavailable(
            "REFVID_WAN_TEXT_ENCODER_ON_CPU=1 works with REFVID_WAN_OFFLOAD=none or group, not model"
        )
    device = resolve_device(settings.device)
    if settings.offload != "none" and device in ("cpu", "mps"):
        raise EngineUnavailable(
            f"REFVID_WAN_OFFLOAD={settings.offload} moves weights between CPU and a CUDA GPU; "
            f"the device here is {device}: set REFVID_WAN_OFFLOAD=none"
        )
    return Resolved(model_dir=resolve_model_dir(settings), device=device)


def get_pipeline(settings: WanSettings, resolved: Resolved) -> Any:
    """The process-wide pipeline for these settings, loaded on first use and kept warm."""
    key = settings.cache_key()
    with _lock:
        pipe = _pipelines.get(key)
        if pipe is None:
            # One warm pipeline per process: a worker serves one configuration, so an old
            # one is dropped before loading another instead of holding two in VRAM.
            _pipelines.clear()
            _negative_embeds.clear()
            release_memory()
            pipe = _load(settings, resolved)
            _pipelines[key] = pipe
        return pipe


def adopt_pipeline(settings: WanSettings, pipe: Any) -> None:
    """Serve ``pipe`` (already built and placed) for ``settings``, e.g. random weights in a benchmark."""
    with _lock:
        _pipelines.clear()
        _negative_embeds.clear()
        _pipelines[settings.cache_key()] = pipe


def clear_cache() -> None:
    """Drop the warm pipeline (tests; an operator switching models)."""
    with _lock:
        _pipelines.clear()
        _negative_embeds.clear()
    release_memory()


def encode_prompts(
    settings: WanSettings, pipe: Any, prompt: str, negative: str | None
) -> tuple[Any, Any]:
    """Prompt and negative-prompt embeddings with no autograd graph; the negative one is cached.

    Only the pipeline's ``__call__`` runs under ``no_grad``; ``encode_prompt`` called on its
    own would keep UMT5-XXL's activations (~5 GiB per prompt) alive through ``grad_fn``.
    """
    positive = _encode(pipe, prompt)
    if negative is None:
        return positive, None
    key = (settings.cache_key(), negative)
    with _lock:
        cached = _negative_embeds.get(key)
    if cached is None:
        cached = _encode(pipe, negative)
        with _lock:
            _negative_embeds[key] = cached
    return positive, cached


def _encode(pipe: Any, text: str) -> Any:
    import torch

    # no_grad rather than inference_mode: the embeddings are reused by later pipeline
    # calls, and inference tensors refuse some operations outside inference mode.
    with torch.no_grad():
        embeds, _ = pipe.encode_prompt(
            prompt=text, do_classifier_free_guidance=False, max_sequence_length=TEXT_TOKENS
        )
    return embeds.detach()


def release_memory() -> None:
    """Give freed GPU memory back to the driver after a failure or unload."""
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _load(settings: WanSettings, resolved: Resolved) -> Any:
    import torch
    from diffusers import AutoencoderKLWan, WanVACEPipeline

    dtype = getattr(torch, settings.dtype)
    vae_dtype = getattr(torch, settings.vae_dtype)
    log.info(
        "loading Wan2.1-VACE from %s on %s (%s, vae %s)",
        resolved.model_dir,
        resolved.device,
        dtype,
        vae_dtype,
    )
    try:
        vae = AutoencoderKLWan.from_pretrained(
            resolved.model_dir, subfolder="vae", dtype=vae_dtype, local_files_only=True
        )
        pipe = WanVACEPipeline.from_pretrained(
            resolved.model_dir, vae=vae, dtype=dtype, local_files_only=True
        )
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailable(
            f"REFVID_WAN_MODEL={settings.model}: could not load a Wan2.1-VACE pipeline from "
            f"{resolved.model_dir}: {exc}"
        ) from exc
    place(pipe, settings, resolved.device)
    return pipe


def place(pipe: Any, settings: WanSettings, device: str) -> None:
    """Set a loaded pipeline up for inference: shift, frozen weights, tiling and devices."""
    import torch

    _set_flow_shift(pipe, settings.resolved_flow_shift)
    pipe.set_progress_bar_config(disable=True)
    freeze(pipe)
    if settings.vae_tiling:
        pipe.vae.enable_tiling()
    if settings.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif settings.offload == "group":
        _group_offload(pipe, torch.device(device), settings)
    else:
        for name, component in pipe.components.items():
            # A CPU text encoder never visits the GPU (an 8 GB card could not hold it even once).
            keep_on_cpu = name == "text_encoder" and settings.text_encoder_on_cpu
            if isinstance(component, torch.nn.Module) and not keep_on_cpu:
                component.to(device)


def _group_offload(pipe: Any, onload: Any, settings: WanSettings) -> None:
    """Leaf-level groups prefetched on a CUDA stream: the lowest VRAM at a moderate cost.

    Not ``pipe.enable_group_offload(exclude_modules=[...])``: diffusers moves every
    excluded module to the onload device, which would put the ~11 GB text encoder that
    REFVID_WAN_TEXT_ENCODER_ON_CPU keeps in RAM onto the GPU. Each component is set up
    here instead, and a CPU text encoder is left alone.
    """
    import torch
    from diffusers.hooks import apply_group_offloading

    options: dict[str, Any] = {
        "onload_device": onload,
        "offload_device": torch.device("cpu"),
        "offload_type": "leaf_level",
        # Always true once resolve_device has accepted a CUDA device; false only where a
        # test stands "cuda" in for a GPU on a machine without one.
        "use_stream": onload.type == "cuda" and torch.cuda.is_available(),
        # Streams need pinned host memory; pre-pinning holds every offloaded weight in
        # page-locked RAM at once, pinning on the fly needs far less at some speed.
        "low_cpu_mem_usage": settings.low_cpu_memory,
    }
    for name, component in pipe.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        if name == "text_encoder" and settings.text_encoder_on_cpu:
            continue
        enable = getattr(component, "enable_group_offload", None)
        if enable is not None:  # diffusers models
            enable(**options)
        else:  # the transformers text encoder
            apply_group_offloading(module=component, **options)


def freeze(pipe: Any) -> None:
    """Inference only: no weight of any component requires grad, and none is in training mode."""
    import torch

    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.requires_grad_(False)
            component.eval()


def _set_flow_shift(pipe: Any, shift: float) -> None:
    config = pipe.scheduler.config
    if "flow_shift" in config:  # UniPC, as shipped with the Wan checkpoints
        pipe.scheduler = type(pipe.scheduler).from_config(config, flow_shift=shift)
    elif "shift" in config:  # FlowMatchEulerDiscreteScheduler
        pipe.scheduler = type(pipe.scheduler).from_config(config, shift=shift)
