"""The motion engine: plan shots from the prompt, then draw each frame by warping references.

``plan`` reads the prompt and the references and decides every shot, move and transition;
``render`` draws the frames one at a time: sources (``sources.py``) are prepared on a
background thread, each frame is warped from them (``warp.py``), and crossfades and fades
blend whole I420 buffers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from refvid.engines import vocabulary as vocab
from refvid.engines.base import CancelledFn, Plan, ProgressFn, VideoSpec
from refvid.engines.motion.camera import CameraPath, plan_path
from refvid.engines.motion.casting import content_matcher
from refvid.engines.motion.framing import (
    MAX_MAGNIFICATION,
    CanvasLayout,
    Subject,
    Window,
    canvas_layout,
    find_subject,
    fit_window,
    frame_subject,
    magnification_warning,
    shot_area,
    spread_widths,
)
from refvid.engines.motion.life import (
    SWAY_DEGREES,
    Atmosphere,
    Motion,
    Person,
    atmosphere_for,
)
from refvid.engines.motion.script import read_prompt, request_warnings
from refvid.engines.motion.shots import Shot, plan_shots, unshown_warning
from refvid.engines.motion.sources import Sources
from refvid.engines.motion.staging import (
    Staging,
    analyse_references,
    dolly_zoom_or_push_in,
    framing_subject,
    stage_shots,
)
from refvid.engines.motion.transitions import Timeline, black_frame, blend
from refvid.engines.motion.warp import draw
from refvid.errors import Cancelled
from refvid.memory import release_free_memory
from refvid.references import Reference
from refvid.request import GenerationRequest
from refvid.vision.cutout import Cutout, cutout, warm_up
from refvid.vision.detect import analyse

log = logging.getLogger(__name__)

ENDING_FADE_FRAMES = 18  # 3/4 s to black when the prompt ends with "fade to black"
CUTOUT_THREADS = 2  # cut-outs analysed at once during planning (beside casting's detectors) ...
# ... while the pictures are small enough together: an analysis holds about 30 bytes of
# temporaries per pixel at its peak, so above this many pixels in all (a 12 MP photo among
# others) they run one after another and planning's peak follows the largest picture, not
# the sum (the mixed 12 MP render: ~22 MB less peak RSS for ~0.2 s more planning).
CONCURRENT_PIXELS = 6_000_000
NOTE = "motion engine: camera moves over your reference images; not a generative model"


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
    shallow_focus: bool = False  # layered shots draw their background out of focus ("bokeh")





class MotionEngine:
    """CPU engine: shot plan, subject-aware framing, smooth camera moves, transitions, one look."""

    name = "motion"

    def warm_up(self) -> None:
        """Start loading, on a background thread, what the first plan of a fresh process needs.

        Called by the CLI before the references are decoded: decoding keeps one core busy,
        and the tables of :func:`refvid.vision.cutout.warm_up` are built on the other instead
        of during planning, when both are. Once per process; results do not change.
        """
        global _warming
        with _warm_lock:
            if _warming is not None:
                return
            _warming = threading.Thread(target=_warm_up, name="refvid-warm-up")
        _warming.start()

    def plan(self, request: GenerationRequest, references: Sequence[Reference]) -> MotionPlan:
        """Read the prompt and the references; decide every shot, move and transition."""
        if request.seed == 0:
            raise ValueError("plan needs a concrete seed; call request.with_seed() first")
        # The cut-outs (most of planning) do not depend on casting's detectors: they start on
        # two threads now and ``analyse_references`` below takes their results (or an error,
        # computed again there). Each is a pure function of its picture, so the order they
        # run in changes nothing but the wall time: the largest picture, the slowest, starts
        # first and the others run beside it instead of after it.
        pixels = sum(r.width * r.height for r in references)
        threads = CUTOUT_THREADS if pixels <= CONCURRENT_PIXELS else 1
        early = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="refvid-cutouts")
        try:
            for reference in sorted(references, key=lambda r: -r.width * r.height):
                early.submit(cutout, reference.image)
            return self._plan(request, references)
        finally:
            early.shutdown(wait=True, cancel_futures=True)

    def _plan(self, request: GenerationRequest, references: Sequence[Reference]) -> MotionPlan:
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
        script.warnings += request_warnings(request.prompt, request.duration, request.aspect_ratio)
        all_layouts = {i: canvas_layout(r.width, r.height, aspect, spec.width) for i, r in enumerate(references)}
        cuts = analyse_references(references, range(len(references)), script.warnings)
        stagings = stage_shots(shots, references, cuts, amplitudes, all_layouts, request.prompt, script.warnings,
                               matcher, analyses)
        unshown = unshown_warning(script, {s.reference for s in shots} | {i for st in stagings for i in st.subjects},
                                  len(references))
        if unshown:
            script.warnings.append(unshown)
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
            [b.w for b in bases], [s.reference for s in shots], [spec.width / MAX_MAGNIFICATION] * len(shots),
            [s.framing for s in shots],
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
            dolly_zoom_or_push_in(shot, stagings[i], i + 1, script.warnings)

        timeline = Timeline.build(
            [shot.start for shot in shots],
            [shot.transition_in for shot in shots],
            [shot.transition_frames for shot in shots],
            spec.frame_count,
            fade_out=ENDING_FADE_FRAMES if script.ending == "fade" else 0,
        )
        paths = []
        for shot, span, shot_amplitude, base, area, staging in zip(shots, timeline.spans, amplitudes, bases, areas,
                                                                    stagings, strict=True):
            paths.append(
                plan_path(
                    shot.move, base, area, aspect, shot_amplitude,
                    span.last - span.first, spec.fps, spec.width, rng, shot.then_move, staging.layered,
                    layouts[shot.reference].image,
                )
            )
        people = [_person(staging, cuts, layouts[shot.reference]) for shot, staging in zip(shots, stagings, strict=True)]
        motions = [Motion.draw(np.random.default_rng([request.seed, n, 0x11FE]), span.last - span.first + 1, spec.fps)
                   for n, span in enumerate(timeline.spans)]
        atmosphere = atmosphere_for(request.prompt)
        grade = script.grade
        focus = vocab.all_matches(vocab.SHALLOW_FOCUS, request.prompt)
        if focus:
            flat = [n for n, staging in enumerate(stagings, start=1) if not staging.layered]
            if flat:
                script.warnings.append(
                    f"{focus[0][1]!r} blurs the background behind a cut-out subject: shot(s) {flat} show a "
                    "flat picture and stay sharp")
        details = {
            "note": NOTE,
            "movement_amplitude": amplitude,
            "grade": grade,
            "ending": script.ending or "cut",
            "titles": script.titles,
            "harmonised": len(used) > 1,
            "atmosphere": list(atmosphere),
            "shallow_focus": bool(focus),
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
        release_free_memory()  # the analyses' full-size temporaries, freed on two threads
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
            shallow_focus=bool(focus),
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


_warm_lock = threading.Lock()
_warming: threading.Thread | None = None


def _warm_up() -> None:
    try:
        warm_up()
    except Exception:  # only a head start: planning loads the same and reports errors itself
        log.debug("warming up failed", exc_info=True)


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
    return {"head_sway_degrees": SWAY_DEGREES, "breathing": True, "blinks": len(motion.blinks) if person.eyes else 0}


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
    sources = Sources(plan, references)
    del references  # the sources hold the pictures only until the last source is made
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
            draw(shown[0], plan, sources, spec, frame, buffers)
            if len(shown) == 2:
                draw(shown[1], plan, sources, spec, scratch, buffers)
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


