"""Camera paths: a move turned into one window per frame, eased, bounded and sub-pixel smooth.

A move goes from a start window to an end window with a raised-cosine ease, the smooth
curve with the lowest peak acceleration for a given travel. The travel grows with the
shot's length and the movement amplitude, but is capped so that no corner of the frame
ever accelerates by more than ``MAX_ACCELERATION`` output pixels per frame squared:
inside a shot the camera's motion changes by a fraction of a pixel from frame to frame,
where whole-pixel rounding (ffmpeg's zoompan) shakes by more than a pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from refvid.engines.motion.framing import CanvasLayout, Window, fit_window, max_window_width

MAX_ACCELERATION = 0.25  # output px / frame^2 at the frame's corners
AMPLITUDE_SCALE = {"small": 0.5, "medium": 1.0, "large": 1.9}
ZOOM_PER_SECOND = 0.05  # fraction of the window's width
TRAVEL_PER_SECOND = 0.05  # fraction of the window's width
MAX_ZOOM = 0.4
ORBIT_ROLL = math.radians(1.2)
SHAKE_WIDTH = 0.006  # handheld sway, fraction of the window's width
SHAKE_HZ = (0.15, 0.55)  # low: a person breathing and shifting weight, not vibration


@dataclass(frozen=True)
class Sway:
    """One sinusoid of handheld motion, in fractions of the window's width (angle in rad)."""

    dx: float
    dy: float
    dangle: float
    hz: float
    phase: float


@dataclass(frozen=True)
class CameraPath:
    """Where the camera looks on each frame of a shot's visible span."""

    start: Window
    end: Window
    frames: int
    fps: int
    sway: tuple[Sway, ...] = field(default_factory=tuple)

    def at(self, frame: int) -> Window:
        """The window on ``frame`` (0 = first visible frame of the shot)."""
        t = frame / (self.frames - 1) if self.frames > 1 else 0.0
        window = self.start.lerp(self.end, ease(min(max(t, 0.0), 1.0)))
        if not self.sway:
            return window
        seconds = frame / self.fps
        dx = dy = dangle = 0.0
        for s in self.sway:
            wave = math.sin(2 * math.pi * s.hz * seconds + s.phase)
            dx += s.dx * wave
            dy += s.dy * wave
            dangle += s.dangle * wave
        return Window(window.cx + dx * window.w, window.cy + dy * window.w, window.w, window.angle + dangle)

    def to_dict(self) -> dict[str, object]:
        def win(w: Window) -> list[float]:
            return [round(w.cx, 2), round(w.cy, 2), round(w.w, 2), round(math.degrees(w.angle), 3)]

        return {"start": win(self.start), "end": win(self.end), "frames": self.frames, "handheld": bool(self.sway)}


def ease(t: float) -> float:
    """Raised-cosine ease in and out: velocity 0 at both ends, peak acceleration pi^2/2."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


def plan_path(
    move: str,
    base: Window,
    layout: CanvasLayout,
    aspect: float,
    amplitude: str,
    frames: int,
    fps: int,
    output_width: int,
    rng: np.random.Generator,
) -> CameraPath:
    """The camera path of one shot: ``move`` around the resting window ``base``."""
    strength = AMPLITUDE_SCALE[amplitude]
    seconds = frames / fps
    zoom = min(MAX_ZOOM, ZOOM_PER_SECOND * strength * seconds)
    travel = TRAVEL_PER_SECOND * strength * seconds
    sway: tuple[Sway, ...] = ()
    angle_margin = 0.0

    if move == "push_in":
        start, end = base, Window(base.cx, base.cy, base.w * (1 - zoom))
    elif move == "pull_out":
        start, end = Window(base.cx, base.cy, base.w * (1 - zoom)), base
    elif move in ("pan_left", "pan_right", "truck_left", "truck_right", "orbit"):
        sign = -1.0 if move.endswith("left") else 1.0
        if move == "orbit":
            sign = float(rng.choice([-1.0, 1.0]))
            angle_margin = ORBIT_ROLL * strength
        start, end = _slide(base, layout, aspect, travel, sign, horizontal=True, angle=angle_margin, strength=strength)
        if move == "orbit":
            # Arc around the subject: slide, roll against the slide, and close in a little.
            roll = angle_margin * sign
            start = Window(start.cx, start.cy, start.w, -roll)
            end = Window(end.cx, end.cy, end.w * (1 - zoom / 3), roll)
    elif move in ("tilt_up", "tilt_down", "crane_up"):
        sign = 1.0 if move == "tilt_down" else -1.0
        start, end = _slide(base, layout, aspect, travel, sign, horizontal=False, strength=strength)
        if move == "crane_up":
            start = Window(start.cx, start.cy, start.w * (1 - zoom / 2))
    elif move == "handheld":
        start = end = Window(base.cx, base.cy, base.w * (1 - 4 * SHAKE_WIDTH * strength))
        sway = _sway(strength, fps, output_width, rng)
        angle_margin = sum(abs(s.dangle) for s in sway)
    elif move == "static":
        start = end = base
    else:
        raise ValueError(f"unknown camera move {move!r}")

    start = fit_window(start, layout, aspect, angle_margin)
    end = fit_window(end, layout, aspect, angle_margin)
    start, end = _limit_acceleration(start, end, frames, aspect, output_width)
    return CameraPath(start, end, frames, fps, sway)


def _slide(
    base: Window,
    layout: CanvasLayout,
    aspect: float,
    travel: float,
    sign: float,
    *,
    horizontal: bool,
    strength: float,
    angle: float = 0.0,
) -> tuple[Window, Window]:
    """Start and end windows of a straight move, narrowing the window if it needs room.

    A wide shot has no room to slide, so it tightens: by up to 10% for small moves and
    up to 30% for large ones, which still reads as the same framing.
    """
    widest = max_window_width(layout, aspect, angle)
    w = min(base.w, widest)
    extent = layout.width if horizontal else layout.height
    size = w if horizontal else w / aspect
    tightest = 1.0 - min(0.3, 0.1 + 0.1 * (strength - 0.5) / 0.5)
    distance = min(travel * w, max(0.0, extent - tightest * size))
    room = extent - distance
    if size > room:
        w *= room / size
        size = room
    centre = base.cx if horizontal else base.cy
    centre = float(np.clip(centre, size / 2 + distance / 2, extent - size / 2 - distance / 2))
    a, b = centre - sign * distance / 2, centre + sign * distance / 2
    if horizontal:
        return Window(a, base.cy, w), Window(b, base.cy, w)
    return Window(base.cx, a, w), Window(base.cx, b, w)


def _sway(strength: float, fps: int, output_width: int, rng: np.random.Generator) -> tuple[Sway, ...]:
    """Three slow sinusoids whose combined corner acceleration stays under half the cap."""
    parts = []
    for _ in range(3):
        hz = float(rng.uniform(*SHAKE_HZ))
        parts.append(
            Sway(
                dx=float(rng.uniform(0.5, 1.0)) * SHAKE_WIDTH * strength / 3,
                dy=float(rng.uniform(0.3, 0.8)) * SHAKE_WIDTH * strength / 3,
                dangle=float(rng.uniform(-1.0, 1.0)) * math.radians(0.25) * strength / 3,
                hz=hz,
                phase=float(rng.uniform(0, 2 * math.pi)),
            )
        )
    accel = sum(
        (abs(p.dx) + abs(p.dy) + abs(p.dangle)) * output_width * (2 * math.pi * p.hz / fps) ** 2 for p in parts
    )
    factor = min(1.0, MAX_ACCELERATION / 2 / accel) if accel > 0 else 1.0
    return tuple(Sway(p.dx * factor, p.dy * factor, p.dangle * factor, p.hz, p.phase) for p in parts)


def corner_travel(start: Window, end: Window, aspect: float, output_width: int) -> float:
    """The largest distance any frame corner moves from start to end, in output pixels."""
    scale = output_width / min(start.w, end.w)
    worst = 0.0
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5)):
        points = []
        for w in (start, end):
            x, y = sx * w.w, sy * w.w / aspect
            c, s = math.cos(w.angle), math.sin(w.angle)
            points.append((w.cx + c * x - s * y, w.cy + s * x + c * y))
        worst = max(worst, math.dist(points[0], points[1]) * scale)
    return worst


def _limit_acceleration(
    start: Window, end: Window, frames: int, aspect: float, output_width: int
) -> tuple[Window, Window]:
    """Shrink the move about its midpoint until its peak acceleration is within the cap."""
    span = max(frames - 1, 1)
    peak = (math.pi**2 / 2) * corner_travel(start, end, aspect, output_width) / span**2
    if peak <= MAX_ACCELERATION:
        return start, end
    keep = MAX_ACCELERATION / peak
    middle = start.lerp(end, 0.5)
    return middle.lerp(start, keep), middle.lerp(end, keep)
