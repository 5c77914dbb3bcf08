"""Camera paths: inside the picture on every frame, eased, and sub-pixel smooth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refvid.engines.motion.camera import (
    MAX_JERK,
    CameraPath,
    corner_travel,
    ease,
    plan_path,
)
from refvid.engines.motion.framing import Box, CanvasLayout, Window, canvas_layout, max_window_width

MOVES = ["push_in", "pull_out", "pan_left", "pan_right", "truck_left", "truck_right", "tilt_up",
         "tilt_down", "crane_up", "orbit", "handheld", "static"]
ASPECT = 16 / 9


def corners(window: Window, aspect: float) -> np.ndarray:
    c, s = math.cos(window.angle), math.sin(window.angle)
    out = []
    for sx, sy in ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5)):
        x, y = sx * window.w, sy * window.w / aspect
        out.append((window.cx + c * x - s * y, window.cy + s * x + c * y))
    return np.array(out)


def path_for(move: str, amplitude: str = "medium", frames: int = 40, layout: CanvasLayout | None = None,
             framing_scale: float = 1.0, seed: int = 3) -> tuple[CameraPath, CanvasLayout]:
    layout = layout or canvas_layout(2400, 1350, ASPECT)
    widest = max_window_width(layout, ASPECT)
    base = Window(layout.width / 2, layout.height / 2, widest * framing_scale)
    return plan_path(move, base, layout, ASPECT, amplitude, frames, 24, 1920, np.random.default_rng(seed)), layout


def output_corners(path: CameraPath) -> np.ndarray:
    """Corner positions in output pixels on every frame: (frames, 4, 2)."""
    scale = 1920 / path.start.w
    return np.array([corners(path.at(i), ASPECT) * scale for i in range(path.frames)])


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("amplitude", ["small", "medium", "large"])
def test_motion_is_sub_pixel_smooth(move: str, amplitude: str) -> None:
    path, _ = path_for(move, amplitude)
    positions = output_corners(path)
    # Issue 8: the change of frame-to-frame motion's change (jerk) stays far below a pixel,
    # while the moves themselves are large enough to see.
    jerk = np.diff(positions, n=3, axis=0)
    assert np.abs(jerk).max() <= MAX_JERK * 1.2
    assert np.sqrt((jerk**2).mean()) < 0.1


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("framing_scale", [1.0, 0.68, 0.45])
def test_window_stays_inside_the_picture(move: str, framing_scale: float) -> None:
    layout = CanvasLayout(1000, 700, Box(0, 0, 1000, 700), extended=False)
    path, _ = path_for(move, "large", 60, layout, framing_scale)
    for i in range(path.frames):
        points = corners(path.at(i), ASPECT)
        assert points[:, 0].min() >= -1e-6 and points[:, 0].max() <= layout.width + 1e-6, (move, i)
        assert points[:, 1].min() >= -1e-6 and points[:, 1].max() <= layout.height + 1e-6, (move, i)


@pytest.mark.parametrize("move", [m for m in MOVES if m not in ("static", "handheld")])
def test_moves_actually_move(move: str) -> None:
    path, _ = path_for(move, "medium", 72)
    assert corner_travel(path.start, path.end, ASPECT, 1920) > 20


@pytest.mark.parametrize("move", ["push_in", "pan_left", "tilt_up", "orbit"])
def test_amplitude_orders_travel(move: str) -> None:
    # A long shot on a big picture: neither the edges nor the acceleration cap bind.
    layout = canvas_layout(6000, 3375, ASPECT)
    travel = {
        a: corner_travel(*_ends(path_for(move, a, 120, layout, 0.5)[0]), ASPECT, 1920)
        for a in ("small", "medium", "large")
    }
    assert travel["small"] < travel["medium"] < travel["large"]


def _ends(path: CameraPath) -> tuple[Window, Window]:
    return path.start, path.end


@pytest.mark.parametrize("move", ["push_in", "pan_right", "tilt_down", "orbit"])
def test_amplitudes_travel_the_documented_share_in_two_seconds(move: str) -> None:
    layout = canvas_layout(6000, 3375, ASPECT)
    shares = {a: path_for(move, a, 48, layout, 0.6)[0].travel(ASPECT, 1920) for a in ("small", "medium", "large")}
    assert 0.02 <= shares["small"] <= 0.06 < shares["medium"]
    assert 0.06 <= shares["medium"] <= 0.12 < shares["large"] <= 0.24, shares


def test_orbit_is_a_yaw_not_a_roll() -> None:
    path, _ = path_for("orbit", "large", 72)
    assert path.start.angle == path.end.angle == 0.0
    assert abs(path.end.yaw - path.start.yaw) > math.radians(15)


def test_a_second_move_continues_the_first() -> None:
    layout = canvas_layout(4000, 2250, ASPECT)
    base = Window(2000, 1125, 3000)
    path = plan_path("push_in", base, layout, ASPECT, "medium", 72, 24, 1920, np.random.default_rng(1), "pan_right")
    assert path.then is not None
    assert path.end.w < path.start.w and path.then.cx > path.end.cx
    speeds = [corner_travel(path.at(i), path.at(i + 1), ASPECT, 1920) for i in range(10, 60)]
    assert min(speeds) > 0.3, "the camera never stops between the two moves"


def test_short_shots_cap_travel_to_keep_acceleration_low() -> None:
    short, _ = path_for("pan_left", "large", 16)
    long, _ = path_for("pan_left", "large", 120)
    assert corner_travel(short.start, short.end, ASPECT, 1920) < corner_travel(long.start, long.end, ASPECT, 1920)


def test_directions() -> None:
    left, _ = path_for("pan_left")
    right, _ = path_for("pan_right")
    up, _ = path_for("tilt_up")
    push, _ = path_for("push_in")
    pull, _ = path_for("pull_out")
    assert left.end.cx < left.start.cx and right.end.cx > right.start.cx
    assert up.end.cy < up.start.cy
    assert push.end.w < push.start.w and pull.end.w > pull.start.w


def test_handheld_sways_and_is_seeded() -> None:
    a, _ = path_for("handheld", seed=1)
    b, _ = path_for("handheld", seed=1)
    c, _ = path_for("handheld", seed=2)
    xs = [a.at(i).cx for i in range(a.frames)]
    assert max(xs) - min(xs) > 0.5
    assert xs == [b.at(i).cx for i in range(b.frames)]
    assert xs != [c.at(i).cx for i in range(c.frames)]


def test_ease_starts_and_ends_at_rest() -> None:
    assert ease(0.0) == 0.0 and ease(1.0) == pytest.approx(1.0) and ease(0.5) == pytest.approx(0.5)
    assert ease(0.01) - ease(0.0) < 0.001 and ease(1.0) - ease(0.99) < 0.001


def test_a_dolly_zoom_pulls_the_background_away_where_the_picture_has_room() -> None:
    layout = canvas_layout(2400, 1350, ASPECT)
    widest = max_window_width(layout, ASPECT)
    for scale, grows in ((0.5, True), (1.0, False)):  # a medium shot has room around it; a full-width one has none
        base = Window(layout.width / 2, layout.height / 2, widest * scale)
        path = plan_path("dolly_zoom", base, layout, ASPECT, "medium", 72, 24, 1920, np.random.default_rng(3),
                         layered=True, picture=layout.image)
        assert path.start == path.end == path.at(36), "the subject's window holds"
        assert path.background is not None
        start, end = path.background
        assert (end.w > start.w * 1.1) if grows else (end.w < start.w * 0.9), (scale, start.w, end.w)
