"""The contract's sizes and durations mapped onto Wan's native sizes, frame counts and fps."""

from __future__ import annotations

import pytest

from refvid.engines.wan.sizes import (
    crop_to_aspect,
    native_size,
    output_positions,
    plan_segments,
    round_up_4k1,
)


@pytest.mark.parametrize(
    ("aspect", "base", "expected"),
    [
        ("16:9", (832, 480), (832, 480)),
        ("9:16", (832, 480), (480, 832)),
        ("1:1", (832, 480), (624, 624)),
        ("16:9", (1280, 720), (1280, 720)),
        ("9:16", (1280, 720), (720, 1280)),
        ("1:1", (1280, 720), (960, 960)),
        ("1:1", (48, 32), (32, 32)),
    ],
)
def test_native_sizes_are_multiples_of_16(
    aspect: str, base: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert native_size(aspect, base) == expected
    assert all(side % 16 == 0 for side in expected)


def test_unknown_aspect_is_refused() -> None:
    with pytest.raises(ValueError, match="4:3"):
        native_size("4:3", (832, 480))


@pytest.mark.parametrize(
    ("frames", "expected"), [(1, 5), (5, 5), (6, 9), (80, 81), (81, 81), (82, 85)]
)
def test_round_up_4k1(frames: int, expected: int) -> None:
    assert round_up_4k1(frames) == expected


def test_five_seconds_is_one_segment_of_81_frames() -> None:
    segments = plan_segments(5, 16, 81, 5)
    assert segments.needed == 81
    assert segments.lengths == (81,)


def test_ten_seconds_continues_the_first_segment() -> None:
    segments = plan_segments(10, 16, 81, 5)
    assert segments.needed == 161
    # 81 + (85 - 5 overlapping frames) = 161: the last segment is one latent frame longer.
    assert segments.lengths == (81, 85)
    assert segments.produced == 161


def test_ten_seconds_with_the_default_overlap_is_two_segments_of_85() -> None:
    segments = plan_segments(10, 16, 81, 9)
    assert segments.lengths == (85, 85)
    assert segments.produced == segments.needed == 161


def test_the_extra_latent_frame_goes_to_the_last_segments_first() -> None:
    assert plan_segments(10, 16, 81, 5).lengths == (81, 85)
    for seconds in (1, 3, 5, 7, 10, 12, 15, 20):
        segments = plan_segments(seconds, 16, 81, 9)
        assert segments.produced >= segments.needed
        assert all(length % 4 == 1 and length <= 85 for length in segments.lengths)


def test_short_segments_chain_until_the_duration_is_covered() -> None:
    segments = plan_segments(10, 16, 21, 5)
    assert all(length % 4 == 1 for length in segments.lengths)
    assert segments.produced >= segments.needed == 161
    assert len(segments.lengths) > 2


def test_overlap_must_be_shorter_than_a_segment() -> None:
    with pytest.raises(ValueError, match="overlap"):
        plan_segments(5, 16, 5, 5)


def test_output_positions_map_24_fps_onto_16() -> None:
    positions = output_positions(120, 16, 24)
    assert len(positions) == 120
    assert positions[:4] == [0.0, 2 / 3, 4 / 3, 2.0]
    assert positions[-1] <= 80  # never past the last native frame


@pytest.mark.parametrize(
    ("native", "out", "crop"),
    [
        ((832, 480), (1920, 1080), (0, 6, 832, 468)),
        ((480, 832), (1080, 1920), (6, 0, 468, 832)),
        ((624, 624), (1080, 1080), (0, 0, 624, 624)),
        ((48, 32), (1920, 1080), (0, 2, 48, 27)),
    ],
)
def test_crop_keeps_the_output_aspect(
    native: tuple[int, int], out: tuple[int, int], crop: tuple[int, int, int, int]
) -> None:
    assert crop_to_aspect(*native, *out) == crop
