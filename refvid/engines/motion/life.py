"""Signs of life: a person's head sways and they breathe and blink; scenes get the atmosphere asked for.

People (a layered shot of a reference with face landmarks): the head turns a degree or
so about the top of the neck on slow incommensurate sines, the body rises and falls a
few tenths of a percent with each breath, and, when the eyes are open and big enough on
screen to read, the upper lids close and reopen every few seconds. All of it is small
local warps of the finished frame, sub-pixel and smooth.

Scenes, when the prompt names them: a warm light leak drifting across ("sunlight",
"golden hour", "light leak"), drifting dust or falling snow, film grain ("vintage",
"film grain"). Every random choice is drawn from the request's seed: byte-deterministic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np

from refvid.vision.landmarks import FaceLandmarks

SWAY_DEGREES: Final = 1.1  # peak head turn; at a 300 px head that is under 3 px at the crown
BREATH_SCALE: Final = 0.0035  # peak vertical stretch of the body per breath
BREATH_SECONDS: Final = (3.6, 4.6)  # one breath
BLINK_EVERY: Final = (2.4, 5.0)  # seconds between blinks
BLINK_FRAMES: Final = 5  # close, closed, open: about 200 ms at 24 fps
MAP_STEP: Final = 4  # px between the head turn's computed map nodes (interpolated between)
MIN_EYE_PIXELS: Final = 10.0  # eye width on screen below which a blink cannot be read

ATMOSPHERE_WORDS: Final = (
    (re.compile(r"\b(?:sun ?light|sun ?rays?|rays of (?:sun)?light|light leaks?|golden hour|sunset|sunrise|"
                r"sunbeams?|god ?rays)\b", re.IGNORECASE), "light"),
    (re.compile(r"\b(?:snow(?:s|ing|fall|flakes?)?|blizzard)\b", re.IGNORECASE), "snow"),
    (re.compile(r"\b(?:dust|dusty|particles|motes|pollen|embers)\b", re.IGNORECASE), "dust"),
    (re.compile(r"\b(?:vintage|film grain|grainy|old film|retro|8 ?mm|16 ?mm|super ?8|analog(?:ue)? film)\b",
                re.IGNORECASE), "grain"),
)


def atmosphere_for(prompt: str) -> tuple[str, ...]:
    """The atmosphere effects a prompt names, in a fixed order ("light", "snow", "dust", "grain")."""
    return tuple(name for pattern, name in ATMOSPHERE_WORDS if pattern.search(prompt))


@dataclass(frozen=True)
class Person:
    """What life animates, in canvas pixels of the shot's reference: pivot, head and eyes."""

    pivot: tuple[float, float]
    head_centre: tuple[float, float]
    head_radius: float
    eyes: tuple[tuple[float, float, float], ...]  # (x, y, width) of each open eye
    body_bottom: float

    @classmethod
    def from_landmarks(cls, marks: FaceLandmarks, offset: tuple[float, float], body_bottom: float) -> Person:
        points = marks.points + np.array(offset, np.float32)
        centre = points.mean(axis=0)
        radius = float(np.linalg.norm(points - centre, axis=1).max()) * 1.25
        eyes = tuple((e.centre[0] + offset[0], e.centre[1] + offset[1], e.width)
                     for e in (marks.right_eye, marks.left_eye) if e.openness > 0.18)
        pivot = (marks.pivot[0] + offset[0], marks.pivot[1] + offset[1])
        return cls(pivot, (float(centre[0]), float(centre[1])), radius, eyes, body_bottom)

    def placed(self, x0: float, y0: float, to_x: float, to_y: float, scale: float) -> Person:
        """The same person scaled about (x0, y0) and moved there to (to_x, to_y): a composite's placement."""
        def move(p: tuple[float, float]) -> tuple[float, float]:
            return to_x + (p[0] - x0) * scale, to_y + (p[1] - y0) * scale

        eyes = tuple((*move((x, y)), w * scale) for x, y, w in self.eyes)
        return Person(move(self.pivot), move(self.head_centre), self.head_radius * scale, eyes, self.body_bottom)


@dataclass(frozen=True)
class Motion:
    """One shot's seeded rhythm: sway phases and periods, breath, blink times (frame numbers)."""

    sway: tuple[tuple[float, float, float], ...]  # (amplitude share, period s, phase)
    breath_period: float
    breath_phase: float
    blinks: tuple[int, ...]
    fps: int

    @classmethod
    def draw(cls, rng: np.random.Generator, frames: int, fps: int) -> Motion:
        sway = ((0.7, float(rng.uniform(4.5, 6.5)), float(rng.uniform(0, 2 * math.pi))),
                (0.3, float(rng.uniform(2.3, 3.1)), float(rng.uniform(0, 2 * math.pi))))
        blinks = []
        # The first blink falls inside any shot of a second or more: a face that never blinks
        # across a short shot reads as a photograph, which is what life is meant to undo.
        seconds = (frames - BLINK_FRAMES) / fps
        t = float(rng.uniform(0.4, min(2.0, max(0.5, seconds - 0.3))))
        while t * fps < frames - BLINK_FRAMES:
            blinks.append(round(t * fps))
            t += float(rng.uniform(*BLINK_EVERY))
        return cls(sway, float(rng.uniform(*BREATH_SECONDS)), float(rng.uniform(0, 2 * math.pi)), tuple(blinks), fps)

    def angle(self, frame: int) -> float:
        """Head turn in radians at ``frame`` (a smooth sum of sines, at most SWAY_DEGREES)."""
        t = frame / self.fps
        turn = sum(a * math.sin(2 * math.pi * t / period + phase) for a, period, phase in self.sway)
        return math.radians(SWAY_DEGREES) * turn

    def breath(self, frame: int) -> float:
        """Vertical stretch of the body at ``frame`` (0 at rest)."""
        t = frame / self.fps
        return BREATH_SCALE * 0.5 * (1 - math.cos(2 * math.pi * t / self.breath_period + self.breath_phase))

    def lid(self, frame: int) -> float:
        """How closed the eyes are at ``frame``: 0 open, 1 shut."""
        for start in self.blinks:
            k = frame - start
            if 0 <= k < BLINK_FRAMES:
                return (0.55, 1.0, 1.0, 0.6, 0.2)[k]
        return 0.0


def breathing_matrix(person: Person, stretch: float) -> np.ndarray:
    """3x3 canvas->canvas map that stretches the body vertically about its bottom (the feet or cut edge)."""
    return np.array([[1.0, 0, 0], [0, 1.0 / (1.0 + stretch), person.body_bottom * stretch / (1.0 + stretch)],
                     [0, 0, 1.0]])


def animate_person(frame_planes: tuple[np.ndarray, np.ndarray, np.ndarray], person: Person,
                   to_output: np.ndarray, motion: Motion, frame: int) -> None:
    """Sway the head and blink the eyes of ``person`` in an I420 frame's planes, in place.

    ``to_output`` (2x3) maps canvas pixels to output pixels for this frame.
    """
    scale = math.hypot(to_output[0, 0], to_output[1, 0])
    pivot = _apply(to_output, person.pivot)
    head = _apply(to_output, person.head_centre)
    radius = person.head_radius * scale
    angle = motion.angle(frame)
    lid = motion.lid(frame)
    eyes = [(*_apply(to_output, (x, y)), w * scale) for x, y, w in person.eyes if w * scale >= MIN_EYE_PIXELS]
    y_plane = frame_planes[0]
    height, width = y_plane.shape
    # The region the warps touch: the head and its fall-off ring, in luma pixels.
    reach = radius * 1.7
    x0, y0 = max(0, int(head[0] - reach)), max(0, int(head[1] - reach))
    x1, y1 = min(width, int(head[0] + reach) + 1), min(height, int(pivot[1] + radius * 0.3) + 1)
    if x1 - x0 < 4 or y1 - y0 < 4 or (abs(angle) < 1e-5 and (lid == 0 or not eyes)):
        return
    map_x, map_y = _turn_maps(x0, y0, x1, y1, head, pivot, radius, angle)
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    if lid > 0:
        grid_x, grid_y = np.broadcast_to(xs, map_x.shape), np.broadcast_to(ys, map_x.shape)
        for ex, ey, ew in eyes:
            _close_lid(map_x, map_y, grid_x, grid_y, ex, ey, ew, lid)
    _remap_planes(frame_planes, map_x, map_y, x0, y0)


def _turn_maps(x0: int, y0: int, x1: int, y1: int, head: tuple[float, float], pivot: tuple[float, float],
               radius: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Remap maps (output px -> source px) of the head turn over the region [x0, x1) x [y0, y1).

    The turn's displacement is smooth (a rotation of at most SWAY_DEGREES whose weight ramps
    over a fifth of the head), so it is computed every MAP_STEP px and interpolated: a head
    filling the frame is over a million pixels, and per-pixel trigonometry cost more than
    the frame's warps. The interpolation is within 0.05 px of the exact map.
    """
    width, height = x1 - x0, y1 - y0
    columns, rows = -(-width // MAP_STEP), -(-height // MAP_STEP)
    # Coarse nodes at the centres of MAP_STEP x MAP_STEP blocks: cv2.resize by MAP_STEP puts
    # every node back exactly on its pixel.
    offset = (MAP_STEP - 1) / 2
    xs = (x0 + offset + MAP_STEP * np.arange(columns, dtype=np.float32))[None, :]
    ys = (y0 + offset + MAP_STEP * np.arange(rows, dtype=np.float32))[:, None]
    # Head turn about the pivot, full on the head, fading out over the neck and the ring.
    distance = np.hypot(xs - head[0], ys - head[1]) / radius
    weight = np.clip((1.7 - distance) / 0.7, 0, 1) * np.clip((pivot[1] - ys) / (0.25 * radius) + 0.5, 0, 1)
    turn = -angle * weight
    c, s = np.cos(turn), np.sin(turn)
    dx, dy = xs - pivot[0], ys - pivot[1]
    # Displacements, not positions: they are zero at the region's edges, where resize clamps.
    shift_x = (pivot[0] + c * dx - s * dy - xs).astype(np.float32)
    shift_y = (pivot[1] + s * dx + c * dy - ys).astype(np.float32)
    size = (columns * MAP_STEP, rows * MAP_STEP)
    full_x = cv2.resize(shift_x, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    full_y = cv2.resize(shift_y, size, interpolation=cv2.INTER_LINEAR)[:height, :width]
    map_x = full_x + np.arange(x0, x1, dtype=np.float32)[None, :]
    map_y = full_y + np.arange(y0, y1, dtype=np.float32)[:, None]
    return map_x, map_y


def _close_lid(map_x: np.ndarray, map_y: np.ndarray, xs: np.ndarray, ys: np.ndarray,
               ex: float, ey: float, ew: float, closed: float) -> None:
    """The skin above an eye stretched down over it, as far as ``closed`` (0..1) says."""
    half_h = ew * 0.22  # the open eye's half height
    top, eye_top, eye_bottom = ey - half_h * 3.2, ey - half_h, ey + half_h
    lid = eye_top + (eye_bottom - eye_top) * closed
    across = np.clip(1 - ((xs - ex) / (ew * 0.62)) ** 2, 0, 1) ** 0.5  # the lid's curve: full mid-eye
    line = eye_top + (lid - eye_top) * across
    upper = (ys >= top) & (ys < line)
    lower = (ys >= line) & (ys < eye_bottom)
    stretched = top + (ys - top) * (eye_top - top) / np.maximum(line - top, 1e-3)
    squeezed = eye_top + (eye_bottom - eye_top) * (1 - (eye_bottom - ys) / np.maximum(eye_bottom - line, 1e-3))
    map_y[upper] = stretched[upper] + (map_y[upper] - ys[upper])
    map_y[lower] = squeezed[lower] + (map_y[lower] - ys[lower])


def _remap_planes(planes: tuple[np.ndarray, np.ndarray, np.ndarray], map_x: np.ndarray, map_y: np.ndarray,
                  x0: int, y0: int) -> None:
    y_plane = planes[0]
    h, w = map_x.shape
    y_plane[y0 : y0 + h, x0 : x0 + w] = cv2.remap(y_plane, map_x, map_y, cv2.INTER_LINEAR,
                                                 borderMode=cv2.BORDER_REFLECT101)
    # Chroma: the same maps at half resolution (sample j sits at luma 2j + 0.5).
    cx0, cy0 = (x0 + 1) // 2, (y0 + 1) // 2
    ch, cw = (y0 + h) // 2 - cy0, (x0 + w) // 2 - cx0
    if ch <= 0 or cw <= 0:
        return
    ly, lx = 2 * cy0 - y0, 2 * cx0 - x0
    sub_x = (map_x[ly : ly + 2 * ch : 2, lx : lx + 2 * cw : 2] - 0.5) / 2
    sub_y = (map_y[ly : ly + 2 * ch : 2, lx : lx + 2 * cw : 2] - 0.5) / 2
    for plane in planes[1:]:
        plane[cy0 : cy0 + ch, cx0 : cx0 + cw] = cv2.remap(plane, sub_x, sub_y, cv2.INTER_LINEAR,
                                                         borderMode=cv2.BORDER_REFLECT101)


def _apply(matrix: np.ndarray, point: tuple[float, float]) -> tuple[float, float]:
    x = matrix[0, 0] * point[0] + matrix[0, 1] * point[1] + matrix[0, 2]
    y = matrix[1, 0] * point[0] + matrix[1, 1] * point[1] + matrix[1, 2]
    return float(x), float(y)


# --- atmosphere ------------------------------------------------------------------------------


@dataclass
class Atmosphere:
    """Seeded scene effects drawn over finished frames: light leak, snow or dust, grain."""

    effects: tuple[str, ...]
    width: int
    height: int
    fps: int
    seed: int
    _grain: list[np.ndarray] = field(default_factory=list)
    _particles: np.ndarray | None = None
    _leak: np.ndarray | None = None
    _leak_phase: float = 0.0

    def __post_init__(self) -> None:
        rng = np.random.default_rng([self.seed, 0xA7])
        if "grain" in self.effects:
            # A small bank of noise tiles, chosen per frame: film grain without per-frame RNG cost.
            tile = (self.height, self.width)
            self._grain = [np.clip(rng.normal(0, 3.2, tile), -12, 12).astype(np.int16) for _ in range(6)]
        if "snow" in self.effects or "dust" in self.effects:
            count = 140 if "snow" in self.effects else 90
            # x, y (0..1), size px, speed (share of height per second), drift, phase, brightness
            self._particles = np.column_stack([
                rng.uniform(0, 1, count), rng.uniform(0, 1, count),
                rng.uniform(1.2, 3.6, count) * self.height / 1080,
                rng.uniform(0.04, 0.12, count) * (1.0 if "snow" in self.effects else 0.15),
                rng.uniform(-0.02, 0.02, count), rng.uniform(0, 2 * math.pi, count),
                rng.uniform(0.35, 0.9, count),
            ])
        if "light" in self.effects:
            small = (max(8, self.width // 8), max(8, self.height // 8))
            yy, xx = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32)
            self._leak = np.stack([xx / small[0], yy / small[1]])
            self._leak_phase = float(rng.uniform(0, 2 * math.pi))

    def apply(self, frame: np.ndarray, index: int) -> None:
        """Draw this frame's effects into an I420 frame, in place."""
        height = self.height
        y = frame[:height]
        chroma = frame[height:].reshape(2, height // 2, self.width // 2)
        if self._leak is not None:
            self._light(y, chroma, index)
        if self._particles is not None:
            self._flakes(y, index)
        if self._grain:
            noisy = y.astype(np.int16)
            noisy += self._grain[(index * 7 + 3) % len(self._grain)]
            y[:] = np.clip(noisy, 16, 235, out=noisy)

    def _light(self, y: np.ndarray, chroma: np.ndarray, index: int) -> None:
        assert self._leak is not None
        t = index / self.fps
        gx, gy = self._leak
        cx = 0.15 + 0.25 * math.sin(t * 0.35 + self._leak_phase)
        cy = -0.1 + 0.1 * math.cos(t * 0.27 + self._leak_phase)
        glow = np.exp(-(((gx - cx) / 0.55) ** 2 + ((gy - cy) / 0.45) ** 2)) * (0.85 + 0.15 * math.sin(t * 1.3))
        full = cv2.resize(glow, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        y[:] = np.clip(y + full * 22.0, 16, 235).astype(np.uint8)
        half = cv2.resize(glow, (self.width // 2, self.height // 2), interpolation=cv2.INTER_LINEAR)
        chroma[0] = np.clip(chroma[0] - half * 7.0, 16, 240).astype(np.uint8)  # U down, V up: warm
        chroma[1] = np.clip(chroma[1] + half * 9.0, 16, 240).astype(np.uint8)

    def _flakes(self, y: np.ndarray, index: int) -> None:
        assert self._particles is not None
        t = index / self.fps
        px, py, size, speed, drift, phase, bright = self._particles.T
        xs = ((px + drift * t + 0.01 * np.sin(t * 1.1 + phase)) % 1.0) * self.width
        ys = ((py + speed * t) % 1.0) * self.height
        layer = np.zeros((self.height, self.width), np.float32)
        for x, yy, r, b in zip(xs, ys, size, bright, strict=True):
            cv2.circle(layer, (round(x * 4), round(yy * 4)), max(1, round(r * 4)), float(b), -1,
                       lineType=cv2.LINE_AA, shift=2)
        soft = cv2.GaussianBlur(layer, (0, 0), 1.0)
        y[:] = np.clip(y + soft * (235 - y.astype(np.float32)), 16, 235).astype(np.uint8)
