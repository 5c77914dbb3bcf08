"""The motion engine: plan shots from the prompt, then draw each frame by warping references.

Each reference is graded once and converted once to Y, U and V planes; every output
frame is then three ``cv2.warpAffine`` calls with float matrices (sub-pixel, no integer
rounding) written straight into the I420 buffer the encoder takes, so per-frame work is
a resample and nothing else. Crossfades and fades blend whole I420 buffers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from refvid.engines import vocabulary as vocab
from refvid.engines.base import CancelledFn, Plan, ProgressFn, VideoSpec
from refvid.engines.motion.camera import CameraPath, corner_travel, plan_path
from refvid.engines.motion.casting import content_matcher
from refvid.engines.motion.framing import (
    MAX_MAGNIFICATION,
    Box,
    CanvasLayout,
    Subject,
    Window,
    build_canvas,
    canvas_layout,
    find_subject,
    fit_window,
    frame_subject,
    magnification_warning,
    shot_area,
    spread_widths,
    yaw_homography,
)
from refvid.engines.motion.layers import (
    Layers,
    background_window,
    build_composite,
    composite,
    prepare_layers,
)
from refvid.engines.motion.life import (
    Atmosphere,
    Motion,
    Person,
    animate_person,
    atmosphere_for,
    breathing_matrix,
)
from refvid.engines.motion.look import apply_look, harmony_target, lab_stats
from refvid.engines.motion.shots import Shot, plan_shots, read_prompt
from refvid.engines.motion.staging import Staging, analyse_references, framing_subject, stage_shots
from refvid.engines.motion.transitions import Appearance, Timeline, black_frame, blend, motion_blur
from refvid.errors import Cancelled
from refvid.media.color import i420_planes, rgb_to_yuv444, yuv444_to_planes
from refvid.references import Reference
from refvid.request import GenerationRequest
from refvid.vision.cutout import Cutout, cutout
from refvid.vision.detect import analyse

BLUR_FROM_SPEED = 3.0  # output px per frame at the corners: faster moves get motion blur (at 3 px the
# sub-frame samples are 0.5 px apart, so switching the blur on is not seen)
SHUTTER = 0.5  # of a frame: the exposure the motion blur imitates (a 180 degree shutter)
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
    stagings: list[Staging]  # per shot: flat, parallax or composite
    people: list[Person | None]  # per shot: the person life animates (canvas pixels), if any
    motions: list[Motion]  # per shot: the seeded rhythm of sway, breath and blinks
    atmosphere: tuple[str, ...]  # scene effects the prompt named


@dataclass
class _Source:
    """A reference prepared for warping: planes at working scale, and that scale."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    scale: float
    layers: Layers | None = None  # parallax and composite shots: background, subject, alpha


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
        analyses = [analyse(reference.image) for reference in references]  # cached by content
        matcher = content_matcher(references, analyses)
        shots = plan_shots(script, len(references), spec.frame_count, spec.fps, rng, matcher)
        amplitude: str = request.movement_amplitude
        if amplitude == "auto":
            amplitude = script.amplitude or "medium"
        elif script.amplitude and script.amplitude != amplitude:
            words = [w for v, w in vocab.all_matches(vocab.AMPLITUDE_WORDS, request.prompt) if v == script.amplitude]
            script.warnings.append(
                f"{', '.join(repr(w) for w in words)} was not used: movement_amplitude is {amplitude!r}"
            )
        amplitudes = [_shot_amplitude(shot, request.movement_amplitude, amplitude, script.warnings, n)
                      for n, shot in enumerate(shots, start=1)]
        all_layouts = {i: canvas_layout(r.width, r.height, aspect, spec.width) for i, r in enumerate(references)}
        cuts = analyse_references(references, range(len(references)), script.warnings)
        stagings = stage_shots(shots, references, cuts, amplitudes, all_layouts, request.prompt, script.warnings,
                               matcher)
        used = sorted({shot.reference for shot in shots})
        subjects: dict[int, Subject] = {i: find_subject(analyses[i]) for i in used}
        layouts = {i: all_layouts[i] for i in used}
        for i in used:
            warning = magnification_warning(i, layouts[i], references[i].width, references[i].height,
                                            (spec.width, spec.height))
            if warning:
                script.warnings.append(warning)
        areas = [shot_area(layouts[s.reference], s.framing, aspect, spec.width) for s in shots]
        bases = [
            frame_subject(framing_subject(staging, layouts[s.reference]) or subjects[s.reference],
                          layouts[s.reference], s.framing, aspect, spec.width)
            for s, staging in zip(shots, stagings, strict=True)
        ]
        widths, similar = spread_widths(
            [b.w for b in bases], [s.reference for s in shots], [spec.width / MAX_MAGNIFICATION] * len(shots)
        )
        for i, (shot, base, area) in enumerate(zip(shots, bases, areas, strict=True)):
            if widths[i] != base.w:
                bases[i] = fit_window(Window(base.cx, base.cy, widths[i]), area, aspect)
            same = i > 0 and shots[i - 1].reference == shot.reference
            asked = bool(shot.said.get("transition")) or script.transition_style is not None
            if shot.transition_in == "crossfade" and (similar[i] or (same and not asked)):
                # Two framings of one picture ghost when dissolved (doubled faces, doubled
                # wheels): an editor cuts between them unless a dissolve was asked for.
                shot.transition_in, shot.transition_frames = "cut", 0
            if _pans_across(shot, layouts[shot.reference], aspect):
                shot.move = "pan_left" if rng.random() < 0.5 else "pan_right"

        timeline = Timeline.build(
            [shot.start for shot in shots],
            [shot.transition_in for shot in shots],
            [shot.transition_frames for shot in shots],
            spec.frame_count,
            fade_out=ENDING_FADE_FRAMES if script.ending == "fade" else 0,
        )
        paths = []
        for shot, span, shot_amplitude, base, area in zip(shots, timeline.spans, amplitudes, bases, areas, strict=True):
            paths.append(
                plan_path(
                    shot.move, base, area, aspect, shot_amplitude,
                    span.last - span.first, spec.fps, spec.width, rng, shot.then_move,
                )
            )
        people = [_person(staging, cuts, layouts[shot.reference]) for shot, staging in zip(shots, stagings, strict=True)]
        motions = [Motion.draw(np.random.default_rng([request.seed, n, 0x11FE]), span.last - span.first + 1, spec.fps)
                   for n, span in enumerate(timeline.spans)]
        atmosphere = atmosphere_for(request.prompt)
        grade = script.grade
        details = {
            "note": NOTE,
            "movement_amplitude": amplitude,
            "grade": grade,
            "ending": script.ending or "cut",
            "titles": script.titles,
            "harmonised": len(used) > 1,
            "atmosphere": list(atmosphere),
            "references": [
                {
                    "image": i + 1,
                    "subject": subjects[i].kind,
                    "subject_box": [round(v, 1) for v in (subjects[i].box.x0, subjects[i].box.y0, subjects[i].box.x1, subjects[i].box.y1)],
                    "extended_canvas": layouts[i].extended,
                    **({"cutout": {"kind": cuts[i].kind, "presentation": cuts[i].presentation,
                                   "reason": cuts[i].reason}} if i in cuts else {}),
                }
                for i in used
            ],
            "shots": [
                {**shot.to_dict(spec.fps), "transition_out": _transition_out(shots, i, script.ending),
                 "movement_amplitude": shot_amplitude, "visible": [span.first, span.last],
                 "travel": round(path.travel(aspect, spec.width), 4), "camera": path.to_dict(),
                 "layers": staging.to_dict(), "life": _life_dict(person, motion)}
                for i, (shot, span, path, shot_amplitude, staging, person, motion) in enumerate(
                    zip(shots, timeline.spans, paths, amplitudes, stagings, people, motions, strict=True)
                )
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
            stagings=stagings,
            people=people,
            motions=motions,
            atmosphere=atmosphere,
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


def _transition_out(shots: list[Shot], index: int, ending: str | None) -> str:
    """How a shot hands over: the next shot's way in, or the video's ending."""
    if index + 1 < len(shots):
        return shots[index + 1].transition_in
    return "fade to black" if ending == "fade" else "end"


def _pans_across(shot: Shot, layout: CanvasLayout, aspect: float) -> bool:
    """A wide shot of a picture much wider than the frame, with no move asked: pan across it."""
    return (
        shot.framing == "wide"
        and not shot.said.get("move")
        and shot.then_move is None
        and layout.image.width / layout.image.height > 1.5 * aspect
    )


def _person(staging: Staging, cuts: dict[int, Cutout], layout: CanvasLayout) -> Person | None:
    """The person a layered shot animates, in the shot's canvas pixels (None: nobody to animate)."""
    if not staging.layered:
        return None
    for n, i in enumerate(staging.subjects):
        cut = cuts.get(i)
        if cut is None or cut.kind != "person" or not cut.landmarks or cut.box is None:
            continue
        if staging.mode == "parallax":
            return Person.from_landmarks(cut.landmarks[0], (layout.image.x0, layout.image.y0),
                                         cut.box[3] + layout.image.y0)
        place = staging.placements[n]
        # Cut-out pixels -> scene canvas: scaled about the box's corner, moved to the placement.
        return Person.from_landmarks(cut.landmarks[0], (0.0, 0.0), place.y0 + place.height).placed(
            cut.box[0], cut.box[1], place.x0, place.y0, place.scale)
    return None


def _life_dict(person: Person | None, motion: Motion) -> dict[str, object]:
    if person is None:
        return {}
    return {"head_sway_degrees": 1.1, "breathing": True, "blinks": len(motion.blinks) if person.eyes else 0}


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
    sources = _Sources(plan, references)
    black = black_frame(spec.width, spec.height)
    scratch = np.empty_like(black)
    atmosphere = Atmosphere(plan.atmosphere, spec.width, spec.height, spec.fps, plan.seed) if plan.atmosphere else None
    buffers: dict[str, np.ndarray] = {}
    try:
        for index in range(spec.frame_count):
            if cancelled is not None and cancelled():
                raise Cancelled("generation cancelled")
            frame = np.empty_like(black)
            shown = plan.timeline.at(index)
            _draw(shown[0], plan, sources, spec, frame, buffers)
            if len(shown) == 2:
                _draw(shown[1], plan, sources, spec, scratch, buffers)
                blend(frame, shown[0].weight, scratch, frame)
            if atmosphere is not None:
                atmosphere.apply(frame, index)
            if shown[0].brightness < 1.0:
                blend(frame, shown[0].brightness, black, frame)
            yield frame
            if progress is not None:
                progress((index + 1) / spec.frame_count)
    finally:
        sources.close()


SourceKey = tuple[int, str, str, int]  # reference, grade, staging mode, shot (composites only)


def _source_key(number: int, shot: Shot, staging: Staging) -> SourceKey:
    return (shot.reference, shot.grade, staging.mode, number if staging.mode == "composite" else -1)


class _Sources:
    """Prepared sources, made on a background thread in the order the shots need them.

    The first frame waits only for the first shot's source; the others are graded, placed
    and split while the first shots render and encode. Each is a pure function of the plan
    and its references, so the order of work does not change a byte of the output.
    """

    def __init__(self, plan: MotionPlan, references: Sequence[Reference]) -> None:
        involved = sorted(set(plan.layouts) | {i for s in plan.stagings for i in s.subjects})
        self._plan, self._references = plan, references
        self._stats = {i: lab_stats(references[i].image) for i in involved}
        shown = sorted(plan.layouts)
        self._target = harmony_target([self._stats[i] for i in shown]) if len(shown) > 1 else None
        keys = [_source_key(n, shot, staging)
                for n, (shot, staging) in enumerate(zip(plan.shots, plan.stagings, strict=True))]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refvid-sources")
        self._futures = {key: self._executor.submit(self._prepare, key) for key in dict.fromkeys(keys)}

    def __getitem__(self, key: SourceKey) -> _Source:
        return self._futures[key].result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _prepare(self, key: SourceKey) -> _Source:
        """Scale to what the widest window needs, then grade, place on canvas and split into planes."""
        index, grade, mode, number = key
        plan = self._plan
        layout = plan.layouts[index]
        widest = max(
            max(path.start.w, path.end.w, path.last().w)
            for shot, path in zip(plan.shots, plan.paths, strict=True)
            if shot.reference == index
        )
        scale = min(1.0, plan.spec.width * SOURCE_OVERSAMPLE / widest)
        if mode == "flat":
            return self._flat(index, grade, layout, scale)
        stats, target = self._stats, self._target
        image = self._references[index].image
        if mode == "parallax":
            cut = cutout(image)
            canvas = build_canvas(apply_look(np.asarray(cut.plate), stats[index], target, grade), layout)
            subject = build_canvas(apply_look(np.asarray(cut.foreground), stats[index], target, grade), layout)
            alpha = _alpha_canvas(np.asarray(cut.matte), layout)
        else:
            staging = plan.stagings[number]
            cuts = [cutout(self._references[j].image) for j in staging.subjects]
            scene = build_canvas(apply_look(image, stats[index], target, grade), layout)
            graded = [apply_look(np.asarray(c.foreground), stats[j], target, grade)
                      for c, j in zip(cuts, staging.subjects, strict=True)]
            canvas, subject, alpha = build_composite(cuts, scene, staging.placements, graded)
        layers = prepare_layers(_scaled(canvas, scale), _scaled(subject, scale), _scaled(alpha, scale))
        y, u, v = layers.background
        return _Source(y=y, u=u, v=v, scale=scale, layers=layers)

    def _flat(self, index: int, grade: str, layout: CanvasLayout, scale: float) -> _Source:
        image = self._references[index].image
        if scale < 1.0:
            # Shrink first: the look is per pixel, so grading the smaller picture is the same
            # picture for a fraction of the work (a 12 MP photo is 5-10x the pixels needed).
            width = max(1, round(image.shape[1] * scale))
            height = max(1, round(image.shape[0] * scale))
            scale = width / image.shape[1]
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            canvas_w = max(width, round(layout.width * scale))
            canvas_h = max(height, round(layout.height * scale))
            x0 = min(round(layout.image.x0 * scale), canvas_w - width)
            y0 = min(round(layout.image.y0 * scale), canvas_h - height)
            layout = CanvasLayout(canvas_w, canvas_h, Box(x0, y0, x0 + width, y0 + height), layout.extended)
        looked = apply_look(image, self._stats[index], self._target, grade)
        canvas = build_canvas(looked, layout)
        y, u, v = yuv444_to_planes(rgb_to_yuv444(canvas))
        return _Source(y=y, u=u, v=v, scale=scale)


def _scaled(image: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _alpha_canvas(matte: np.ndarray, layout: CanvasLayout) -> np.ndarray:
    """The matte on the reference's canvas: zero over the extended margins."""
    if not layout.extended:
        return matte
    canvas = np.zeros((layout.height, layout.width), np.float32)
    x0, y0 = round(layout.image.x0), round(layout.image.y0)
    canvas[y0 : y0 + matte.shape[0], x0 : x0 + matte.shape[1]] = matte
    return canvas


def _draw(
    shown: Appearance, plan: MotionPlan, sources: _Sources, spec: VideoSpec, out: np.ndarray,
    scratch: dict[str, np.ndarray],
) -> None:
    """Warp one shot's reference (or its layers) into the I420 buffer ``out`` for this frame."""
    shot = plan.shots[shown.shot]
    staging = plan.stagings[shown.shot]
    source = sources[_source_key(shown.shot, shot, staging)]
    path = plan.paths[shown.shot]
    window = path.at(shown.local_frame)
    if source.layers is not None:
        _draw_layers(shown, plan, source, spec, out, scratch, window, path.at(0))
    else:
        speed = _corner_speed(path, shown.local_frame, spec)
        if shown.whip or speed <= BLUR_FROM_SPEED:
            _warp(_whipped(window, shown.whip), source, spec, out)
        else:
            # A fast move: average warps at three instants across the frame's exposure, as a
            # camera's shutter would, so the motion reads as motion and not as a strobe.
            _warp(path.at(shown.local_frame - SHUTTER / 3), source, spec, out)
            exposure = np.empty_like(out)
            _warp(window, source, spec, exposure)
            cv2.addWeighted(out, 0.5, exposure, 0.5, 0.0, dst=out)
            _warp(path.at(shown.local_frame + SHUTTER / 3), source, spec, exposure)
            cv2.addWeighted(out, 2 / 3, exposure, 1 / 3, 0.0, dst=out)
    if shown.blur:
        motion_blur(out, shown.blur)


def _draw_layers(
    shown: Appearance, plan: MotionPlan, source: _Source, spec: VideoSpec, out: np.ndarray,
    scratch: dict[str, np.ndarray], window: Window, rest: Window,
) -> None:
    """Composite a layered shot (plate, subject, life) for this frame; the plate moves less than the subject."""
    assert source.layers is not None
    staging = plan.stagings[shown.shot]
    if shown.whip:
        offset = shown.whip * window.w
        window = Window(window.cx + offset, window.cy, window.w, window.angle)
        rest = Window(rest.cx + offset, rest.cy, rest.w, rest.angle)
    luma = window_matrix(window, source.scale, spec.width, spec.height)
    y, u, v = i420_planes(out)
    person = plan.people[shown.shot]
    back = window_matrix(background_window(window, rest, staging.strength), source.scale, spec.width, spec.height)
    subject = luma
    motion = plan.motions[shown.shot]
    if person is not None:
        # Breathing: the body stretched about its bottom, in full-size canvas pixels.
        breath = breathing_matrix(person, motion.breath(shown.local_frame))
        unscaled = np.vstack([window_matrix(window, 1.0, spec.width, spec.height), [0, 0, 1]])
        subject = np.diag([source.scale, source.scale, 1.0])[:2] @ breath @ unscaled
    composite((y, u, v), source.layers, subject, back, chroma_matrix, scratch)
    if person is not None:
        to_output = cv2.invertAffineTransform(window_matrix(window, 1.0, spec.width, spec.height))
        animate_person((y, u, v), person, to_output, motion, shown.local_frame)


def _whipped(window: Window, whip: float) -> Window:
    if not whip:
        return window
    return Window(window.cx + whip * window.w, window.cy, window.w, window.angle, window.yaw)


def _corner_speed(path: CameraPath, frame: int, spec: VideoSpec) -> float:
    """How far the frame's corners move around ``frame``, in output px per frame."""
    if path.frames < 2 or (path.start == path.last() and not path.sway):
        return 0.0
    before, after = path.at(max(0, frame - 0.5)), path.at(min(path.frames - 1, frame + 0.5))
    return corner_travel(before, after, spec.width / spec.height, spec.width)


def _warp(window: Window, source: _Source, spec: VideoSpec, out: np.ndarray) -> None:
    """Draw ``window`` of ``source`` into the I420 buffer ``out`` (affine, or perspective for a yaw)."""
    y, u, v = i420_planes(out)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    size = (spec.width // 2, spec.height // 2)
    if window.yaw:
        luma3 = perspective_matrix(window, source.scale, spec.width, spec.height)
        chroma3 = _LUMA_TO_CHROMA3 @ luma3 @ _CHROMA_TO_LUMA
        cv2.warpPerspective(source.y, luma3, (spec.width, spec.height), dst=y, flags=flags,
                            borderMode=cv2.BORDER_REFLECT101)
        cv2.warpPerspective(source.u, chroma3, size, dst=u, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        cv2.warpPerspective(source.v, chroma3, size, dst=v, flags=flags, borderMode=cv2.BORDER_REFLECT101)
        return
    luma = window_matrix(window, source.scale, spec.width, spec.height)
    cv2.warpAffine(source.y, luma, (spec.width, spec.height), dst=y, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    chroma = chroma_matrix(luma)
    cv2.warpAffine(source.u, chroma, size, dst=u, flags=flags, borderMode=cv2.BORDER_REFLECT101)
    cv2.warpAffine(source.v, chroma, size, dst=v, flags=flags, borderMode=cv2.BORDER_REFLECT101)


def perspective_matrix(window: Window, scale: float, width: int, height: int) -> np.ndarray:
    """3x3 map from output pixel indices to source pixel indices for a yawed window."""
    step = window.w * scale  # source px per frame width
    to_centred = np.array([[1 / width, 0, (0.5 - width / 2) / width], [0, 1 / width, (0.5 - height / 2) / width], [0, 0, 1]])
    to_source = np.array([[step, 0, window.cx * scale - 0.5], [0, step, window.cy * scale - 0.5], [0, 0, 1]])
    return to_source @ yaw_homography(window.yaw) @ to_centred


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
_LUMA_TO_CHROMA3 = np.linalg.inv(_CHROMA_TO_LUMA)
_LUMA_TO_CHROMA = _LUMA_TO_CHROMA3[:2]


def chroma_matrix(luma: np.ndarray) -> np.ndarray:
    """The same mapping between the half-resolution chroma planes."""
    return _LUMA_TO_CHROMA @ np.vstack([luma, [0.0, 0.0, 1.0]]) @ _CHROMA_TO_LUMA
