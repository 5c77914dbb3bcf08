"""Motion-compensated retiming and upscaling of native frames."""

from __future__ import annotations

import numpy as np
import pytest

from refvid.engines.wan.interpolate import FlowInterpolator, resize_to_output, retime
from refvid.engines.wan.sizes import output_positions


def _square_frames(count: int, step: int, size: tuple[int, int] = (96, 64)) -> list[np.ndarray]:
    """A textured square moving right by ``step`` pixels per frame on a dark background."""
    width, height = size
    rng = np.random.default_rng(3)
    texture = rng.integers(120, 256, (20, 20, 3), dtype=np.uint8)
    frames = []
    for index in range(count):
        frame = np.full((height, width, 3), 20, dtype=np.uint8)
        left = 10 + index * step
        frame[height // 2 - 10 : height // 2 + 10, left : left + 20] = texture
        frames.append(frame)
    return frames


def test_midpoint_follows_the_motion_instead_of_ghosting() -> None:
    frames = _square_frames(2, step=8)
    middle = FlowInterpolator(frames).frame_at(0.5)
    truth = _square_frames(3, step=4)[1]  # the square half-way, at +4 px
    crossfade = ((frames[0].astype(np.int32) + frames[1]) // 2).astype(np.uint8)
    flow_error = np.abs(middle.astype(np.int32) - truth).mean()
    fade_error = np.abs(crossfade.astype(np.int32) - truth).mean()
    assert flow_error < fade_error * 0.2, (flow_error, fade_error)


def test_whole_positions_return_the_native_frames() -> None:
    frames = _square_frames(3, step=5)
    interpolator = FlowInterpolator(frames)
    assert interpolator.frame_at(1.0) is frames[1]
    assert interpolator.frame_at(5.0) is frames[2]  # clamped


def test_tiny_frames_still_get_a_flow() -> None:
    frames = _square_frames(2, step=1, size=(48, 32))
    assert FlowInterpolator(frames).frame_at(0.5).shape == (32, 48, 3)


@pytest.mark.parametrize(("size", "expected"), [((1920, 1080), (1080, 1920)), ((48, 27), (27, 48))])
def test_resize_crops_to_aspect_then_resamples(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    frame = np.zeros((32, 48, 3), dtype=np.uint8)
    frame[:2] = 255  # rows the 16:9 crop removes
    out = resize_to_output(frame, *size)
    assert out.shape[:2] == expected
    assert out.dtype == np.uint8
    assert out[: expected[0] // 20].max() < 40  # the cropped-off white band is gone


def test_retime_gives_one_frame_per_output_position() -> None:
    frames = _square_frames(9, step=2)
    positions = output_positions(12, 16, 24)
    out = list(retime(frames, positions, (64, 36)))
    assert len(out) == 12
    assert all(frame.shape == (36, 64, 3) for frame in out)
    again = list(retime(frames, positions, (64, 36)))
    assert all(np.array_equal(a, b) for a, b in zip(out, again, strict=True))
