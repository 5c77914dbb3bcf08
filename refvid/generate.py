"""The one function everything calls: a request in, an MP4 (and a cover) on disk out."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from refvid.engines import Engine, Plan, get_engine
from refvid.engines.base import CancelledFn, ProgressFn
from refvid.media.cover import write_cover
from refvid.media.encode import encode_video
from refvid.media.prefetch import prefetch
from refvid.memory import share_arenas
from refvid.references import Reference
from refvid.references.load import SERVER, ReferencePolicy, load_references
from refvid.request import GenerationRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationResult:
    """What was written, and the facts a caller reports back (seed used, timings)."""

    video_path: Path
    cover_path: Path | None
    seed: int
    width: int
    height: int
    fps: int
    frame_count: int
    duration: float
    has_audio: bool
    seconds: float
    plan: dict[str, Any]


def make_plan(
    request: GenerationRequest,
    references: Sequence[Reference],
    engine: Engine,
) -> Plan:
    """The engine's plan plus the music plan when ``bgm`` is on; the seed must be concrete."""
    plan = engine.plan(request, references)
    if request.bgm:
        from refvid.audio import plan_music

        plan.music = plan_music(request.prompt, request.seed, plan.spec.duration, plan.cut_times)
    return plan


def generate(
    request: GenerationRequest,
    output: Path,
    *,
    cover: Path | None = None,
    engine: str | Engine = "motion",
    references: Sequence[Reference] | None = None,
    policy: ReferencePolicy = SERVER,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> GenerationResult:
    """Render ``request`` to ``output`` (MP4) and, if asked, a JPEG ``cover``.

    Seed 0 is replaced by a random seed, reported in the result. ``references`` may be
    passed already decoded; otherwise they are loaded from ``request.image_urls`` under
    ``policy`` (the CLI's allows local paths). ``progress`` receives
    0..1; ``cancelled`` is polled between frames (or steps) and makes the render raise
    :class:`refvid.errors.Cancelled`. Both are called from the rendering thread. A
    failed or cancelled render leaves no partial file behind.
    """
    started = time.perf_counter()
    share_arenas()  # a render's threads share their free memory (see refvid.memory)
    request = request.with_seed()
    if references is None:
        references = load_references(request.image_urls, policy)
    chosen = get_engine(engine) if isinstance(engine, str) else engine
    plan = make_plan(request, references, chosen)

    audio: np.ndarray | None = None
    if plan.music is not None:
        from refvid.audio import render_music

        audio = render_music(plan.music)

    # The engine reports progress and polls for cancellation itself (per frame, or per
    # denoising step); it runs on the prefetch thread, so callbacks must be thread-safe.
    frames = prefetch(chosen.render(plan, request, references, progress=progress, cancelled=cancelled))
    # The engine has them now: a caller that let ``load_references`` run here holds no other
    # reference, so the full-size pictures are freed once the engine is done with them.
    del references
    cover_frame_index = _cover_frame_index(plan)
    cover_frame: list[np.ndarray] = []

    def tapped() -> Iterator[np.ndarray]:
        for i, frame in enumerate(frames):
            if i == cover_frame_index:
                cover_frame.append(frame.copy())
            yield frame

    output = Path(output)
    try:
        encode_video(tapped(), plan.spec, output, audio=audio)
        if cover is not None:
            write_cover(cover_frame[0], plan.spec, cover)
    except BaseException:
        output.unlink(missing_ok=True)
        if cover is not None:
            Path(cover).unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    log.info(
        "generated %s: %d frames, seed %d, %.2fs", output, plan.spec.frame_count, request.seed, seconds
    )
    return GenerationResult(
        video_path=output,
        cover_path=Path(cover) if cover is not None else None,
        seed=request.seed,
        width=plan.spec.width,
        height=plan.spec.height,
        fps=plan.spec.fps,
        frame_count=plan.spec.frame_count,
        duration=plan.spec.duration,
        has_audio=audio is not None,
        seconds=seconds,
        plan=plan.to_dict(),
    )


def _cover_frame_index(plan: Plan) -> int:
    """The middle of the first shot: settled framing, no transition in progress."""
    first_cut = plan.cut_times[0] if plan.cut_times else plan.spec.duration
    return min(plan.spec.frame_count - 1, int(first_cut * plan.spec.fps / 2))
