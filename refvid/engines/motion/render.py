"""The motion engine: plan shots from the prompt, then draw each frame by warping references.

Each reference is graded once and converted once to Y, U and V planes; every output
frame is then three ``cv2.warpAffine`` calls with float matrices (sub-pixel, no integer
rounding) written straight into the I420 buffer the encoder takes, so per-frame work is
a resample and nothing else. Crossfades and fades blend whole I420 buffers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from refvid.engines import vocabulary as vocab
from refvid.engines.base import CancelledFn, Plan, ProgressFn, VideoSpec
from refvid.engines.motion.camera import CameraPath, plan_path
from refvid.engines.motion.casting import content_matcher
from refvid.engines.motion.framing import (
    CanvasLayout,
    Subject,
    Window,
    build_canvas,
    canvas_layout,
    find_subject,
    frame_subject,
)
from refvid.engines.motion.look import apply_look, harmony_target, lab_stats
from refvid.engines.motion.shots import Shot, plan_shots, read_prompt
from refvid.engines.motion.transitions import Appearance, Timeline, black_frame, blend, motion_blur
from refvid.errors import Cancelled
from refvid.media.color import i420_planes, rgb_to_yuv444, yuv444_to_planes
from refvid.references import Reference
from refvid.request import GenerationRequest

ENDING_FADE_FRAMES = 18  # 3/4 s to black when the prompt ends with "fade to black"
NOTE = "motion engine: camera moves over your reference images; not a generative model"
SOURCE_OVERSAMPLE = 1.05  # keep the widest window at about 1 source px per output px


@dataclass(kw_only=True)
class MotionPlan(Plan):
    """A plan with the engine's own objects kept for rendering (not part of the JSON)."""

    shots: list[Shot]
    timeline: Timeline
    paths: list[CameraPath]
    layouts: dict[int, CanvasLayout]
    grade: str  # the grade of shots without their own (each Shot has its grade)


@dataclass
class _Source:
    """A reference prepared for warping: planes at working scale, and that scale."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    scale: float


class MotionEngine:
    """CPU engine: shot plan, subject-aware framing, smooth camera moves, transitions, one look."""

    name = "motion"

    def plan(self, request: GenerationRequest, references: Sequence[Reference]) -> MotionPlan:
        """Read the prompt and the references; decide every shot, move and transition."""
        if request.seed == 0:
            raise ValueError("plan needs a concrete seed; call request.with_seed() first")
        rng = np.random.default_rng(request.seed)
        spec = VideoSpec.for_request(request)
        aspect = spec.width / spec.height
        script = read_prompt(request.prompt, len(references))
        shots = plan_shots(script, len(references), spec.frame_count, spec.fps, rng, content_matcher(references))
        amplitude: str = request.movement_amplitude
        if amplitude == "auto":
            amplitude = vocab.first_match(vocab.AMPLITUDE_WORDS, request.prompt) or "medium"
        amplitudes = [_shot_amplitude(shot, request.movement_amplitude, amplitude, script.warnings, n)
                      for n, shot in enumerate(shots, start=1)]
        used = sorted({shot.reference for shot in shots})
        subjects: dict[int, Subject] = {i: find_subject(references[i].image) for i in used}
        layouts = {i: canvas_layout(references[i].width, references[i].height, aspect) for i in used}

        timeline = Timeline.build(
            [shot.start for shot in shots],
            [shot.transition_in for shot in shots],
            [shot.transition_frames for shot in shots],
            spec.frame_count,
            fade_out=ENDING_FADE_FRAMES if script.ending == "fade" else 0,
        )
        paths = []
        for shot, span, shot_amplitude in zip(shots, timeline.spans, amplitudes, strict=True):
            base = frame_subject(subjects[shot.reference], layouts[shot.reference], shot.framing, aspect, spec.width)
            paths.append(
                plan_path(
                    shot.move, base, layouts[shot.reference], aspect, shot_amplitude,
                    span.last - span.first, spec.fps, spec.width, rng,
                )
            )
        grade = script.grade
        details = {
            "note": NOTE,
            "movement_amplitude": amplitude,
            "grade": grade,
            "ending": script.ending or "cut",
            "titles": script.titles,
            "harmonised": len(used) > 1,
            "references": [
                {
                    "image": i + 1,
                    "subject": subjects[i].kind,
                    "subject_box": [round(v, 1) for v in (subjects[i].box.x0, subjects[i].box.y0, subjects[i].box.x1, subjects[i].box.y1)],
                    "extended_canvas": layouts[i].extended,
                }
                for i in used
            ],
            "shots": [
                {**shot.to_dict(spec.fps), "movement_amplitude": shot_amplitude, "visible": [span.first, span.last],
                 "camera": path.to_dict()}
                for shot, span, path, shot_amplitude in zip(shots, timeline.spans, paths, amplitudes, strict=True)
            ],
            "warnings": script.warnings,
        }
        return MotionPlan(
            engine=self.name,
            seed=request.seed,
            spec=spec,
            cut_times=[shot.start / spec.fps for shot in shots[1:]],
            details=details,
            shots=shots,
            timeline=timeline,
            paths=paths,
            layouts=layouts,
            grade=grade,
        )

    def render(
        self,
        plan: Plan,
        request: GenerationRequest,
        references: Sequence[Reference],
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield the plan's frames as I420 arrays, one at a time."""
        if not isinstance(plan, MotionPlan):
            plan = self.plan(request, references)
        return _render(plan, references, progress, cancelled)


def _shot_amplitude(shot: Shot, requested: str, default: str, warnings: list[str], number: int) -> str:
    """A shot's amplitude: the request's when it names one, else the shot's own words, else the prompt's."""
    own = shot.amplitude
    if requested != "auto":
        if own and own != requested:
            words = shot.said.get("amplitude", [own])[0]
            warnings.append(f"shot {number}: {words!r} was not used: movement_amplitude is {requested!r}")
        return requested
    return own or default


def _render(
    plan: MotionPlan,
    references: Sequence[Reference],
    progress: ProgressFn | None,
    cancelled: CancelledFn | None,
) -> Iterator[np.ndarray]:
    spec = plan.spec
    sources = _prepare_sources(plan, references)
    black = black_frame(spec.width, spec.height)
    scratch = np.empty_like(black)
    for index in range(spec.frame_count):
        if cancelled is not None and cancelled():
            raise Cancelled("generation cancelled")
        frame = np.empty_like(black)
        shown = plan.timeline.at(index)
        _draw(shown[0], plan, sources, spec, frame)
        if len(shown) == 2:
            _draw(shown[1], plan, sources, spec, scratch)
            blend(frame, shown[0].weight, scratch, frame)
        if shown[0].brightness < 1.0:
            blend(frame, shown[0].brightness, black, frame)
        yield frame
        if progress is not None:
            progress((index + 1) / spec.frame_count)


def _prepare_sources(plan: MotionPlan, references: Sequence[Reference]) -> dict[tuple[int, str], _Source]:
    """Grade, harmonise, place on canvas, scale and split into planes, once per reference and grade."""
    used = sorted(plan.layouts)
    stats = {i: lab_stats(references[i].image) for i in used}
    target = harmony_target(list(stats.values())) if len(used) > 1 else None
    sources: dict[tuple[int, str], _Source] = {}
    for i, grade in sorted({(shot.reference, shot.grade) for shot in plan.shots}):
        looked = apply_look(references[i].image, stats[i], target, grade)
        canvas = build_canvas(looked, plan.layouts[i])
        widest = max(
            max(path.start.w, path.end.w)
            for shot, path in zip(plan.shots, plan.paths, strict=True)
            if shot.reference == i
        )
        scale = min(1.0, plan.spec.width * SOURCE_OVERSAMPLE / widest)
        if scale < 1.0:
            canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        y, u, v = yuv444_to_planes(rgb_to_yuv444(canvas))
        sources[(i, grade)] = _Source(y=y, u=u, v=v, scale=scale)
    return sources


def _draw(
    shown: Appearance, plan: MotionPlan, sources: dict[tuple[int, str], _Source], spec: VideoSpec, out: np.ndarray
) -> None:
    """Warp one shot's reference into the I420 buffer ``out`` for this frame."""
    shot = plan.shots[shown.shot]
    source = sources[(shot.reference, shot.grade)]
    window = plan.paths[shown.shot].at(shown.local_frame)
    if shown.whip:
        window = Window(window.cx + shown.whip * window.w, window.cy, window.w, window.angle)
    luma = window_matrix(window, source.scale, spec.width, spec.height)
    y, u, v = i420_planes(out)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    cv2.warpAffine(source.y, luma, (spec.width, spec.height), dst=y, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    chroma = chroma_matrix(luma)
    size = (spec.width // 2, spec.height // 2)
    cv2.warpAffine(source.u, chroma, size, dst=u, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    cv2.warpAffine(source.v, chroma, size, dst=v, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    if shown.blur:
        motion_blur(out, shown.blur)


def window_matrix(window: Window, scale: float, width: int, height: int) -> np.ndarray:
    """2x3 matrix from output pixel indices to source pixel indices (pixel centres)."""
    step = window.w * scale / width
    c, s = math.cos(window.angle) * step, math.sin(window.angle) * step
    # Output pixel u has its centre at u + 0.5; source index = continuous coordinate - 0.5.
    ox, oy = 0.5 - width / 2, 0.5 - height / 2
    tx = window.cx * scale + c * ox - s * oy - 0.5
    ty = window.cy * scale + s * ox + c * oy - 0.5
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


# Chroma sample j sits at luma coordinate 2j + 0.5 (both as pixel indices).
_CHROMA_TO_LUMA = np.array([[2.0, 0.0, 0.5], [0.0, 2.0, 0.5], [0.0, 0.0, 1.0]])
_LUMA_TO_CHROMA = np.linalg.inv(_CHROMA_TO_LUMA)[:2]


def chroma_matrix(luma: np.ndarray) -> np.ndarray:
    """The same mapping between the half-resolution chroma planes."""
    return _LUMA_TO_CHROMA @ np.vstack([luma, [0.0, 0.0, 1.0]]) @ _CHROMA_TO_LUMA
