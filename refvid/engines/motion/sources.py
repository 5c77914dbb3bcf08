"""Sources: each shot's reference prepared for warping, on a background thread.

A source is a reference scaled to what the widest window of its shots needs, graded, placed
on its canvas and split into Y, U and V planes (with its layers for parallax and composite
shots). Each is a pure function of the plan and its references.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from refvid.engines.motion.framing import Box, CanvasLayout, build_canvas
from refvid.engines.motion.layers import Layers, build_composite, prepare_layers
from refvid.engines.motion.look import apply_look, harmony_target, lab_stats
from refvid.engines.motion.shots import Shot
from refvid.engines.motion.staging import Staging
from refvid.media.color import rgb_to_yuv444, yuv444_to_planes
from refvid.memory import release_free_memory
from refvid.references import Reference
from refvid.vision.cutout import cutout
from refvid.vision.cutout import forget as forget_cutout
from refvid.vision.models import unload as unload_models

if TYPE_CHECKING:
    from refvid.engines.motion.render import MotionPlan

FOCUS_BLUR = 0.006  # a shallow focus's blur (Gaussian sigma) as a share of the background's long side
SOURCE_OVERSAMPLE = 1.05  # keep the widest window at about 1 source px per output px


@dataclass
class Source:
    """A reference prepared for warping: planes at working scale, and that scale."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    scale: float
    layers: Layers | None = None  # parallax and composite shots: background, subject, alpha


SourceKey = tuple[int, str, str, int]  # reference, grade, staging mode, shot (composites only)


def source_key(number: int, shot: Shot, staging: Staging) -> SourceKey:
    return (shot.reference, shot.grade, staging.mode, number if staging.mode == "composite" else -1)


class Sources:
    """Prepared sources, made on a background thread in the order the shots need them.

    The first frame waits only for the first shot's source; the others are graded, placed
    and split while the first shots render and encode. Each is a pure function of the plan
    and its references, so the order of work does not change a byte of the output.
    """

    def __init__(self, plan: MotionPlan, references: Sequence[Reference]) -> None:
        involved = sorted(set(plan.layouts) | {i for s in plan.stagings for i in s.subjects})
        self._plan = plan
        self._references: Sequence[Reference] = references
        self._stats = {i: lab_stats(references[i].image) for i in involved}
        shown = sorted(plan.layouts)
        self._target = harmony_target([self._stats[i] for i in shown]) if len(shown) > 1 else None
        keys = list(dict.fromkeys(source_key(n, shot, staging)
                                  for n, (shot, staging) in enumerate(zip(plan.shots, plan.stagings, strict=True))))
        # Each picture's cut-out (a full-size matte, foreground and plate in the cache) is
        # needed only until the last source drawn from it is made: the sources are made one at
        # a time in this order, so that source is where the analysis is let go. Pictures the
        # sources never cut out were analysed by the plan: they go after the first source.
        pictures = _same_pictures(references)
        last = {pictures[i]: key for key in keys for i in self._cut_from(key)}
        self._forget_after: dict[SourceKey, list[int]] = {key: [] for key in keys}
        for picture, key in last.items():
            self._forget_after[key].append(picture)
        if keys:
            self._forget_after[keys[0]] += sorted(set(pictures) - set(last))
        self._forget_lock = threading.Lock()
        self._last_key = keys[-1] if keys else None
        unload_models()  # planning is over; a cut-out computed again (an evicted entry) loads them again
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refvid-sources")
        self._futures = {key: self._executor.submit(self._made, key) for key in keys}

    def __getitem__(self, key: SourceKey) -> Source:
        return self._futures[key].result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        # Sources cancelled before they were made: their cut-outs go too (one being made keeps its own).
        for key in list(self._forget_after):
            self._forget(key)

    def _made(self, key: SourceKey) -> Source:
        source = self._prepare(key)
        self._forget(key)
        if key == self._last_key:
            # Every source is made: the full-size pictures are not needed again. When the
            # caller has let them go too (``generate`` and ``_render`` do), they are freed now.
            self._references = ()
        # Grading and placing a full-size picture leaves large freed temporaries in the heap.
        release_free_memory()
        return source

    def _cut_from(self, key: SourceKey) -> tuple[int, ...]:
        """The references whose cut-outs the source ``key`` is drawn from."""
        index, _, mode, number = key
        if mode == "parallax":
            return (index,)
        if mode == "composite":
            return self._plan.stagings[number].subjects
        return ()

    def _forget(self, key: SourceKey) -> None:
        """Drop the cached cut-outs whose last source is ``key`` (once, from either thread)."""
        with self._forget_lock:
            indices = self._forget_after.pop(key, [])
        for index in indices:
            forget_cutout(self._references[index].image)

    def _prepare(self, key: SourceKey) -> Source:
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
            plate, foreground, matte = np.asarray(cut.plate), np.asarray(cut.foreground), np.asarray(cut.matte)
            if not layout.extended:
                # Shrink first, as for a flat source: the canvas is the picture (build_canvas
                # returns it as it is), so scaling the layers before the look is the same
                # geometry for a fraction of the work.
                plate, foreground, matte = _scaled(plate, scale), _scaled(foreground, scale), _scaled(matte, scale)
            canvas = _focus(build_canvas(apply_look(plate, stats[index], target, grade), layout), plan)
            subject = build_canvas(apply_look(foreground, stats[index], target, grade), layout)
            alpha = _alpha_canvas(matte, layout)
            if not layout.extended:
                layers = prepare_layers(canvas, subject, alpha)
                return Source(y=layers.background[0], u=layers.background[1], v=layers.background[2],
                              scale=scale, layers=layers)
        else:
            staging = plan.stagings[number]
            cuts = [cutout(self._references[j].image) for j in staging.subjects]
            scene = _focus(build_canvas(apply_look(image, stats[index], target, grade), layout), plan)
            graded = [apply_look(np.asarray(c.foreground), stats[j], target, grade)
                      for c, j in zip(cuts, staging.subjects, strict=True)]
            canvas, subject, alpha = build_composite(cuts, scene, staging.placements, graded)
        layers = prepare_layers(_scaled(canvas, scale), _scaled(subject, scale), _scaled(alpha, scale))
        y, u, v = layers.background
        return Source(y=y, u=u, v=v, scale=scale, layers=layers)

    def _flat(self, index: int, grade: str, layout: CanvasLayout, scale: float) -> Source:
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
        return Source(y=y, u=u, v=v, scale=scale)


def _focus(background: np.ndarray, plan: MotionPlan) -> np.ndarray:
    """A layered shot's background, out of focus when the prompt asks for a shallow depth of field."""
    if not plan.shallow_focus:
        return background
    # About 0.6 % of the picture's long side: clearly soft at any output size, yet the place
    # still reads (a lens at f/2, not a smear).
    sigma = FOCUS_BLUR * max(background.shape[:2])
    return cv2.GaussianBlur(background, (0, 0), sigma)


def _same_pictures(references: Sequence[Reference]) -> list[int]:
    """For each reference, the first reference with the same pixels (the cache holds one analysis for both)."""
    first: list[int] = []
    for i, reference in enumerate(references):
        image = reference.image
        first.append(next((j for j in range(i) if references[j].image.shape == image.shape
                           and np.array_equal(references[j].image, image)), i))
    return first


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
