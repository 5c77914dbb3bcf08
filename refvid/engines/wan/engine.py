"""The ``wan`` engine: Wan2.1-VACE reference-to-video through diffusers' ``WanVACEPipeline``.

One call of the pipeline per segment: the references go in as ``reference_images``; a
continuation segment also gets the previous segment's last frames as a conditioning
``video`` whose ``mask`` is black (keep) on those frames and white (generate) after.
The joined native frames are then retimed to 24 fps and upscaled to the contract size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from refvid.engines.base import CancelledFn, Plan, ProgressFn, VideoSpec
from refvid.engines.wan.config import WanSettings
from refvid.engines.wan.continuation import conditioning, join, to_pil
from refvid.engines.wan.interpolate import retime
from refvid.engines.wan.loading import (
    Resolved,
    encode_prompts,
    get_pipeline,
    release_memory,
    render_lock,
)
from refvid.engines.wan.plan import WanPlan
from refvid.engines.wan.prompting import build_prompt
from refvid.engines.wan.references import choose, vace_images
from refvid.engines.wan.sizes import native_size, output_positions, plan_segments
from refvid.errors import Cancelled, EngineUnavailable
from refvid.media.color import rgb_to_i420
from refvid.references import Reference
from refvid.request import GenerationRequest

log = logging.getLogger(__name__)

# Share of the progress bar spent denoising; the rest is retiming and upscaling.
DENOISE_SHARE = 0.9


class WanEngine:
    """Reference-to-video with Wan2.1-VACE; frames are an upscale of the model's native size."""

    name = "wan"

    def __init__(
        self,
        settings: WanSettings,
        resolved: Resolved,
        output_size: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.settings = settings
        self.resolved = resolved
        # Per-aspect output size override, for previews and tests; the contract sizes otherwise.
        self._output_size = output_size or {}

    def warm(self) -> None:
        """Load the pipeline now (a worker calls this at start-up) instead of on the first job."""
        get_pipeline(self.settings, self.resolved)

    def plan(self, request: GenerationRequest, references: Sequence[Reference]) -> Plan:
        """Sizes, segments and the exact prompt; loads nothing."""
        spec = VideoSpec.for_request(request)
        if request.aspect_ratio in self._output_size:
            width, height = self._output_size[request.aspect_ratio]
            spec = VideoSpec(width=width, height=height, frame_count=spec.frame_count)
        settings = self.settings
        native_width, native_height = native_size(request.aspect_ratio, settings.base_size)
        segments = plan_segments(
            request.duration, settings.fps, settings.segment_frames, settings.overlap_frames
        )
        warnings = [w for w in (settings.size_warning,) if w is not None]
        for warning in warnings:
            log.warning("wan: %s", warning)
        wan = WanPlan(
            model=settings.model,
            device=self.resolved.device,
            dtype=settings.dtype,
            offload=settings.offload,
            native_width=native_width,
            native_height=native_height,
            native_fps=settings.fps,
            segments=segments,
            steps=settings.steps,
            guidance=settings.guidance,
            flow_shift=settings.resolved_flow_shift,
            prompt=build_prompt(request),
            negative_prompt=settings.negative_prompt,
            references=tuple(choose(references)),
            upscaled=(native_width, native_height) != (spec.width, spec.height),
            warnings=tuple(warnings),
        )
        # Wan renders one continuous take; a continuation segment is not a cut.
        return Plan(
            engine=self.name, seed=request.seed, spec=spec, cut_times=[], details=wan.to_details()
        )

    def render(
        self,
        plan: Plan,
        request: GenerationRequest,
        references: Sequence[Reference],
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield ``plan.spec.frame_count`` I420 frames; progress advances once per denoising step."""
        with render_lock:
            native = self._native_frames(plan, references, progress, cancelled)
        positions = output_positions(
            plan.spec.frame_count, WanPlan.from_details(plan.details).native_fps, plan.spec.fps
        )
        total = len(positions)
        size = (plan.spec.width, plan.spec.height)
        for index, rgb in enumerate(retime(native, positions, size)):
            if cancelled is not None and cancelled():
                raise Cancelled("generation cancelled")
            yield rgb_to_i420(rgb)
            if progress is not None:
                progress(min(1.0, DENOISE_SHARE + (1 - DENOISE_SHARE) * (index + 1) / total))

    def _native_frames(
        self,
        plan: Plan,
        references: Sequence[Reference],
        progress: ProgressFn | None,
        cancelled: CancelledFn | None,
    ) -> list[np.ndarray]:
        import torch

        wan = WanPlan.from_details(plan.details)
        width, height = wan.native_width, wan.native_height
        segments = wan.segments
        pipe = get_pipeline(self.settings, self.resolved)
        reference_images = vace_images(references, width, height)
        # A CPU generator gives the same starting noise for a seed on any GPU.
        generator = torch.Generator(device="cpu").manual_seed(plan.seed)
        steps = wan.steps
        total_steps = steps * len(segments.lengths)
        done = [0]

        def on_step_end(
            pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            done[0] += 1
            if progress is not None:
                progress(DENOISE_SHARE * done[0] / total_steps)
            if cancelled is not None and cancelled():
                # Stop now rather than skip the remaining steps and still pay for the VAE decode.
                pipeline._interrupt = True
                raise Cancelled("generation cancelled")
            return tensors

        # Encoded once per job (the negative once per process) and shared by every segment.
        negative = wan.negative
        try:
            prompt_embeds, negative_embeds = encode_prompts(
                self.settings, pipe, wan.prompt, negative
            )
        except BaseException:
            self._cleanup(pipe)
            raise
        frames: list[np.ndarray] = []
        for number, length in enumerate(segments.lengths):
            if cancelled is not None and cancelled():
                raise Cancelled("generation cancelled")
            video, mask = (
                (None, None) if number == 0 else conditioning(frames, length, segments.overlap)
            )
            log.info(
                "wan segment %d/%d: %d frames at %dx%d",
                number + 1,
                len(segments.lengths),
                length,
                width,
                height,
            )
            output = self._call(
                pipe,
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_embeds,
                video=video,
                mask=mask,
                reference_images=[to_pil(image) for image in reference_images] or None,
                height=height,
                width=width,
                num_frames=length,
                num_inference_steps=steps,
                guidance_scale=wan.guidance,
                generator=generator,
                output_type="np",
                callback_on_step_end=on_step_end,
            )
            join(frames, _to_uint8(output.frames[0]), segments.overlap if number else 0)
        return frames[: segments.needed]

    def _call(self, pipe: Any, **kwargs: Any) -> Any:
        import torch

        try:
            return pipe(**kwargs)
        except torch.cuda.OutOfMemoryError as exc:
            self._cleanup(pipe)
            raise EngineUnavailable(
                f"out of GPU memory rendering {kwargs['num_frames']} frames at {kwargs['width']}x"
                f"{kwargs['height']}; set REFVID_WAN_OFFLOAD=model (or group) and REFVID_WAN_VAE_TILING=1, "
                "or a lower REFVID_WAN_RESOLUTION"
            ) from exc
        except BaseException:
            self._cleanup(pipe)
            raise

    @staticmethod
    def _cleanup(pipe: Any) -> None:
        """Free activations and offload hooks' GPU copies after a failed or cancelled call."""
        try:
            pipe.maybe_free_model_hooks()
        finally:
            release_memory()


def _to_uint8(frames: np.ndarray) -> list[np.ndarray]:
    """Float frames in 0..1 (the pipeline's ``np`` output) to uint8 RGB."""
    return list(np.clip(frames * 255.0 + 0.5, 0, 255).astype(np.uint8))
