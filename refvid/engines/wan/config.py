"""Settings of the ``wan`` engine, read from ``REFVID_WAN_*`` environment variables.

Kept in the engine's own package so the core never needs diffusers to read its config;
the global ``refvid.config`` may import :class:`WanSettings` to show it alongside its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "Wan-AI/Wan2.1-VACE-1.3B-diffusers"

# Wan's own negative prompt (English rendering of the one the Wan authors ship).
DEFAULT_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, "
    "static, overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, "
    "extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, "
    "fused fingers, still picture, messy background, three legs, many people in the background, "
    "walking backwards"
)

# The sampling settings the authors use for VACE tasks at every resolution: Wan2.1's
# generate.py (sample_shift 16 for "vace" tasks, 50 steps, guide scale 5.0) and VACE's
# vace_wan_inference.py. The 3.0 / 5.0 shifts are Wan's text/image-to-video settings.
VACE_STEPS = 50
VACE_FLOW_SHIFT = 16.0
VACE_GUIDANCE = 5.0

_CUSTOM_RESOLUTION = re.compile(r"^(\d+)x(\d+)$")


class WanSettings(BaseSettings):
    """Everything the operator can set for the ``wan`` engine; frozen so it can key the cache."""

    model_config = SettingsConfigDict(env_prefix="REFVID_WAN_", frozen=True, extra="ignore")

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Local diffusers-layout directory, or a Hugging Face hub id.",
    )
    allow_download: bool = Field(
        default=False,
        description="Let a hub id download weights; off means only local files (local_files_only).",
    )
    device: str = Field(
        default="auto",
        description="auto (first CUDA GPU), cuda, cuda:N, mps or cpu (cpu is for tests: hours per clip).",
    )
    dtype: Literal["bfloat16", "float16", "float32"] = Field(
        default="bfloat16", description="Transformer and text-encoder dtype."
    )
    vae_dtype: Literal["bfloat16", "float16", "float32"] = Field(
        default="float32", description="VAE dtype; fp32 avoids colour banding in decoded frames."
    )
    offload: Literal["none", "model", "group"] = Field(
        default="none",
        description="none: all on the GPU; model: one component at a time; group: layer by layer.",
    )
    text_encoder_on_cpu: bool = Field(
        default=False,
        description="Keep the UMT5-XXL text encoder (~11 GB) in RAM; saves VRAM, slower prompts.",
    )
    low_cpu_memory: bool = Field(
        default=False,
        description=(
            "With offload=group: pin weights in RAM as they stream instead of pinning all "
            "offloaded weights up front (much less RAM, somewhat slower)."
        ),
    )
    vae_tiling: bool = Field(
        default=False, description="Decode the VAE in tiles (less VRAM, a bit slower)."
    )
    resolution: str = Field(
        default="auto",
        description="auto (720p for a 14B model, else 480p), 480p, 720p, or LONGxSHORT in multiples of 16.",
    )
    steps: int = Field(default=VACE_STEPS, ge=1, le=200, description="Denoising steps per segment.")
    guidance: float = Field(
        default=VACE_GUIDANCE, ge=0.0, le=20.0, description="Classifier-free guidance scale."
    )
    flow_shift: float | None = Field(
        default=None,
        gt=0.0,
        description=f"Scheduler flow shift; default {VACE_FLOW_SHIFT} (the VACE authors') at every size.",
    )
    negative_prompt: str = Field(
        default=DEFAULT_NEGATIVE_PROMPT, description="What the model steers away from."
    )
    fps: int = Field(default=16, ge=1, le=30, description="Frame rate the model generates at.")
    segment_frames: int = Field(
        default=81, ge=5, description="Frames per generated segment (4k+1)."
    )
    overlap_frames: int = Field(
        default=9,
        ge=1,
        description="Frames of a segment's end that condition the next (4k+1; 9 pins two latent frames).",
    )

    @field_validator("segment_frames", "overlap_frames")
    @classmethod
    def _four_k_plus_one(cls, value: int) -> int:
        if value % 4 != 1:
            raise ValueError(f"must be of the form 4k+1 (e.g. 5, 9, 81), got {value}")
        return value

    @field_validator("resolution")
    @classmethod
    def _known_resolution(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("auto", "480p", "720p"):
            return value
        match = _CUSTOM_RESOLUTION.match(value)
        if match is None or any(int(side) % 16 or int(side) == 0 for side in match.groups()):
            raise ValueError("use auto, 480p, 720p, or LONGxSHORT with both sides multiples of 16")
        return value

    @property
    def is_local_path(self) -> bool:
        """Whether ``model`` names a directory rather than a hub id."""
        text = self.model
        return (
            text.startswith(("/", ".", "~"))
            or Path(text).expanduser().exists()
            or text.count("/") != 1
        )

    @property
    def base_size(self) -> tuple[int, int]:
        """(long side, short side) of the native landscape size."""
        resolution = self.resolution
        if resolution == "auto":
            resolution = "720p" if "14b" in self.model.lower() else "480p"
        if resolution == "480p":
            return 832, 480
        if resolution == "720p":
            return 1280, 720
        long_side, short_side = (int(side) for side in resolution.split("x"))
        return long_side, short_side

    @property
    def size_warning(self) -> str | None:
        """Why this model/size pair is likely to look worse than it could, if it is."""
        if "1.3b" in self.model.lower() and min(self.base_size) >= 720:
            long_side, short_side = self.base_size
            return (
                f"the 1.3B checkpoint is documented for 480p; at {long_side}x{short_side} expect "
                "artefacts and much longer renders: set REFVID_WAN_RESOLUTION=480p or use the 14B model"
            )
        return None

    @property
    def resolved_flow_shift(self) -> float:
        """The flow shift set, else the VACE authors' (the same at 480p and 720p)."""
        return self.flow_shift if self.flow_shift is not None else VACE_FLOW_SHIFT

    def cache_key(self) -> str:
        """A string that changes whenever a setting that affects loading changes."""
        return self.model_dump_json(
            include={
                "model",
                "allow_download",
                "device",
                "dtype",
                "vae_dtype",
                "offload",
                "low_cpu_memory",
                "vae_tiling",
                "text_encoder_on_cpu",
                "resolution",
                "flow_shift",
            }
        )
