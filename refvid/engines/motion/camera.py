"""Camera paths: a move turned into one window per frame, eased, bounded and sub-pixel smooth.

A move goes from a start window to an end window with a raised-cosine ease. Its travel is
set by the movement amplitude: the frame's corners travel about 3 % (small), 8 % (medium)
or 16 % (large) of the frame's width in a 2 s shot, or the window's width changes by as
much for zooms, growing with the square root of longer shots. It is capped only so that the
motion stays jerk-free: the peak third difference of a corner's position (the change of
frame-to-frame acceleration) stays under ``MAX_JERK`` output pixels, so short shots move
less. A dolly zoom holds the subject's framing while the background alone zooms in, by
more than a push-in would travel (it needs a cut-out subject: layered shots only). An
orbit turns the picture's plane about its vertical axis (a perspective yaw, drawn
as a homography) while sliding against the turn; around a cut-out subject it holds the
subject in the middle and sweeps the background behind it instead (an arc shot's look); a second move in the same sentence
("push in, then pan right") follows the first with an overlap, so the camera never stops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from refvid.engines.motion.framing import (
    Area,
    Window,
    area_box,
    fit_window,
    max_window_width,
    yaw_homography,
)

TRAVEL = {"small": 0.03, "medium": 0.08, "large": 0.16}  # of the frame width (or scale) per 2 s shot
ORBIT_YAW = {"small": math.radians(8), "medium": math.radians(14), "large": math.radians(22)}  # total swing
MAX_JERK = 0.05  # output px / frame^3 at the frame's corners (peak; RMS is 0.7x)
MAX_ACCELERATION = 1.2  # output px / frame^2: a bound the jerk cap keeps far below for real shots
MAX_ZOOM = 0.45
ORBIT_SWEEP = 1.5  # around a cut-out subject, the background sweeps this many times a pan's travel
DOLLY_ZOOM = 2.5  # a dolly zoom's background zooms this many times a push-in's travel (the effect is the point)
SECOND_MOVE_AT = 0.4  # a compound move's second part starts at 40 % of the shot ...
FIRST_MOVE_UNTIL = 0.6  # ... while the first eases out until 60 %
SWAY_ACCELERATION = 0.125  # output px / frame^2: handheld sway stays gentle
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
    then: Window | None = None  # a second move's end: start -> end, then end -> then
    overlap: tuple[float, float] = (SECOND_MOVE_AT, FIRST_MOVE_UNTIL)  # second starts, first ends
    background: tuple[Window, Window] | None = None  # a dolly zoom: the background's own start and end

    def background_at(self, frame: float) -> Window | None:
        """Where a dolly zoom's background looks on ``frame`` (None: it follows the camera)."""
        if self.background is None:
            return None
        t = min(max(frame / (self.frames - 1) if self.frames > 1 else 0.0, 0.0), 1.0)
        return self.background[0].lerp(self.background[1], ease(t))

    def at(self, frame: float) -> Window:
        """The window on ``frame`` (0 = first visible frame of the shot; fractions for motion blur)."""
        t = frame / (self.frames - 1) if self.frames > 1 else 0.0
        t = min(max(t, 0.0), 1.0)
        if self.then is None:
            window = self.start.lerp(self.end, ease(t))
        else:
            begins, ends = self.overlap
            first = ease(min(1.0, t / ends))
            second = ease(max(0.0, (t - begins) / (1 - begins)))
            window = self.start.plus(self.start, self.end, first).plus(self.end, self.then, second)
        if not self.sway:
            return window
        seconds = frame / self.fps
        dx = dy = dangle = 0.0
        for s in self.sway:
            wave = math.sin(2 * math.pi * s.hz * seconds + s.phase)
            dx += s.dx * wave
            dy += s.dy * wave
            dangle += s.dangle * wave
        return Window(window.cx + dx * window.w, window.cy + dy * window.w, window.w, window.angle + dangle, window.yaw)

    def last(self) -> Window:
        return self.then if self.then is not None else self.end

    def travel(self, aspect: float, output_width: int) -> float:
        """How far the shot moves: the corners' travel as a share of the frame's width, or the
        change of scale for zooms, whichever is larger."""
        travel = corner_travel(self.start, self.end, aspect, output_width) / output_width
        scale = abs(1 - self.end.w / self.start.w)
        if self.then is not None:
            travel += corner_travel(self.end, self.then, aspect, output_width) / output_width
            scale += abs(1 - self.then.w / self.end.w)
        if self.background is not None:
            scale = max(scale, abs(1 - self.background[1].w / self.background[0].w))
            travel = max(travel, corner_travel(*self.background, aspect, output_width) / output_width)
        return max(travel, scale)

    def to_dict(self) -> dict[str, object]:
        def win(w: Window) -> list[float]:
            return [round(w.cx, 2), round(w.cy, 2), round(w.w, 2), round(math.degrees(w.angle), 3),
                    round(math.degrees(w.yaw), 2)]

        data: dict[str, object] = {
            "start": win(self.start), "end": win(self.end), "frames": self.frames, "handheld": bool(self.sway)
        }
        if self.then is not None:
            data["then"] = win(self.then)
        if self.background is not None:
            data["background"] = [win(w) for w in self.background]
        return data


def ease(t: float) -> float:
    """Raised-cosine ease in and out: velocity 0 at both ends, peak acceleration pi^2/2."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


def plan_path(
    move: str,
    base: Window,
    area: Area,
    aspect: float,
    amplitude: str,
    frames: int,
    fps: int,
    output_width: int,
    rng: np.random.Generator,
    then_move: str | None = None,
    layered: bool = False,
    picture: Area | None = None,
) -> CameraPath:
    """The camera path of one shot: ``move`` (then ``then_move``) around the resting window ``base``.

    ``layered``: the shot has a cut-out subject over a filled background, so an orbit can
    hold the subject in the middle while the world behind it sweeps the other way.
    ``picture``: where the real picture lies (without any extended margins), for moves that
    should not reveal those margins.
    """
    seconds = max(frames, 1) / fps
    share = TRAVEL[amplitude] * math.sqrt(seconds / 2)
    if then_move is None:
        start, end, sway = _move(move, base, area, aspect, amplitude, share, fps, output_width, rng)
        start, end = _limit_jerk(start, end, frames - 1, aspect, output_width)
        background = None
        if move == "orbit" and layered:
            # Around a subject the camera keeps in the middle, what is behind it sweeps across the
            # frame against the camera's travel: the look of an arc shot (the turn of the picture's
            # plane is left out, since the layers are drawn with affine warps).
            sign = -1.0 if end.yaw > 0 else 1.0
            rest = fit_window(base, area, aspect)
            behind = _slide(base, area, aspect, share * ORBIT_SWEEP, sign, horizontal=True,
                            strength={"small": 0.5, "medium": 1.0, "large": 1.9}[amplitude])
            start = end = rest
            background = _limit_jerk(*behind, frames - 1, aspect, output_width)
        elif move == "dolly_zoom":
            # The subject holds still while the world behind it falls away (dolly in, zoom out),
            # where the picture has room around the window: the background then slides in
            # behind the subject's edges, and the filled plate under the subject stays hidden.
            # Without the room in the real picture it closes in instead (dolly out, zoom in).
            zoom = min(MAX_ZOOM, DOLLY_ZOOM * share)
            wider = min(base.w * (1 + zoom), max_window_width(picture if picture is not None else area, aspect))
            if wider >= base.w * (1 + zoom / 2):
                zoomed = fit_window(Window(base.cx, base.cy, wider), area, aspect)
            else:
                zoomed = fit_window(Window(base.cx, base.cy, base.w * (1 - zoom)), area, aspect)
            background = _limit_jerk(start, zoomed, frames - 1, aspect, output_width)
        return CameraPath(start, end, frames, fps, sway, background=background)
    # Two moves share the shot: each gets a little over half of the travel and of the time.
    start, middle, _ = _move(move, base, area, aspect, amplitude, share * 0.6, fps, output_width, rng)
    start, middle = _limit_jerk(start, middle, int((frames - 1) * FIRST_MOVE_UNTIL), aspect, output_width)
    a, b, _ = _move(then_move, middle, area, aspect, amplitude, share * 0.6, fps, output_width, rng)
    a, b = _limit_jerk(a, b, int((frames - 1) * (1 - SECOND_MOVE_AT)), aspect, output_width)
    end = fit_window(middle.plus(a, b, 1.0), area, aspect)
    path = CameraPath(start, middle, frames, fps, (), end)
    if not all(_inside(path.at(i), area, aspect) for i in range(frames)):
        # The overlap reached outside the picture: one move after the other stays inside
        # (each part is a blend of two windows that fit).
        path = CameraPath(start, middle, frames, fps, (), end, (0.5, 0.5))
    return path


def _inside(window: Window, area: Area, aspect: float) -> bool:
    fitted = fit_window(window, area, aspect)
    return abs(fitted.cx - window.cx) < 1e-6 and abs(fitted.cy - window.cy) < 1e-6 and abs(fitted.w - window.w) < 1e-6


def _move(
    move: str, base: Window, area: Area, aspect: float, amplitude: str, share: float, fps: int,
    output_width: int, rng: np.random.Generator,
) -> tuple[Window, Window, tuple[Sway, ...]]:
    strength = {"small": 0.5, "medium": 1.0, "large": 1.9}[amplitude]
    zoom = min(MAX_ZOOM, share)
    sway: tuple[Sway, ...] = ()
    angle_margin = 0.0
    if move == "push_in":
        start, end = base, Window(base.cx, base.cy, base.w * (1 - zoom))
    elif move == "pull_out":
        start, end = Window(base.cx, base.cy, base.w * (1 - zoom)), base
    elif move in ("pan_left", "pan_right", "truck_left", "truck_right"):
        sign = -1.0 if move.endswith("left") else 1.0
        start, end = _slide(base, area, aspect, share, sign, horizontal=True, strength=strength)
    elif move == "orbit":
        # Turn the plane one way while sliding the other: the subject stays near the middle
        # and its sides change size the way they do when the camera walks around it.
        sign = float(rng.choice([-1.0, 1.0]))
        yaw = ORBIT_YAW[amplitude] / 2
        start, end = _slide(base, area, aspect, share * 0.5, sign, horizontal=True, strength=strength)
        start = Window(start.cx, start.cy, start.w, 0.0, -yaw * sign)
        end = Window(end.cx, end.cy, end.w * (1 - zoom / 3), 0.0, yaw * sign)
    elif move in ("tilt_up", "tilt_down", "crane_up"):
        sign = 1.0 if move == "tilt_down" else -1.0
        start, end = _slide(base, area, aspect, share, sign, horizontal=False, strength=strength)
        if move == "crane_up":
            start = Window(start.cx, start.cy, start.w * (1 - zoom / 2))
    elif move == "handheld":
        start = end = Window(base.cx, base.cy, base.w * (1 - 4 * SHAKE_WIDTH * strength))
        sway = _sway(strength, fps, output_width, rng)
        angle_margin = sum(abs(s.dangle) for s in sway)
    elif move in ("static", "dolly_zoom"):
        start = end = base  # a dolly zoom's subject holds its framing; its background moves (plan_path)
    else:
        raise ValueError(f"unknown camera move {move!r}")
    return fit_window(start, area, aspect, angle_margin), fit_window(end, area, aspect, angle_margin), sway


def _slide(
    base: Window,
    area: Area,
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
    box = area_box(area)
    widest = max_window_width(area, aspect, angle)
    w = min(base.w, widest)
    extent = box.width if horizontal else box.height
    size = w if horizontal else w / aspect
    tightest = 1.0 - min(0.3, 0.1 + 0.1 * (strength - 0.5) / 0.5)
    distance = min(travel * w, max(0.0, extent - tightest * size))
    room = extent - distance
    if size > room:
        w *= room / size
        size = room
    origin = box.x0 if horizontal else box.y0
    centre = (base.cx if horizontal else base.cy) - origin
    centre = origin + float(np.clip(centre, size / 2 + distance / 2, extent - size / 2 - distance / 2))
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
    factor = min(1.0, SWAY_ACCELERATION / accel) if accel > 0 else 1.0
    return tuple(Sway(p.dx * factor, p.dy * factor, p.dangle * factor, p.hz, p.phase) for p in parts)


def corner_travel(start: Window, end: Window, aspect: float, output_width: int) -> float:
    """The largest distance any frame corner moves from start to end, in output pixels."""
    scale = output_width / min(start.w, end.w)
    worst = 0.0
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5)):
        points = []
        for w in (start, end):
            x, y = sx * w.w, sy * w.w / aspect
            if w.yaw:
                turned = yaw_homography(w.yaw) @ np.array([sx, sy / aspect, 1.0])
                x, y = turned[0] / turned[2] * w.w, turned[1] / turned[2] * w.w
            c, s = math.cos(w.angle), math.sin(w.angle)
            points.append((w.cx + c * x - s * y, w.cy + s * x + c * y))
        worst = max(worst, math.dist(points[0], points[1]) * scale)
    return worst


def _limit_jerk(start: Window, end: Window, span: int, aspect: float, output_width: int) -> tuple[Window, Window]:
    """Shrink the move about its midpoint until its peak jerk (and acceleration) is within the caps.

    A raised-cosine move of corner travel D over T frames has peak jerk D/2 (pi/T)^3 and peak
    acceleration D/2 (pi/T)^2.
    """
    span = max(span, 1)
    travel = corner_travel(start, end, aspect, output_width)
    allowed = min(2 * MAX_JERK * (span / math.pi) ** 3, 2 * MAX_ACCELERATION * (span / math.pi) ** 2)
    if travel <= allowed:
        return start, end
    keep = allowed / travel
    middle = start.lerp(end, 0.5)
    return middle.lerp(start, keep), middle.lerp(end, keep)
