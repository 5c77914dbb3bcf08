"""How the contract (aspect ratio, 5 or 10 s at 24 fps) maps onto what Wan generates.

Wan works at its native sizes (multiples of 16) and 16 fps in clips of 4k+1 frames.
A 5 s request needs 5 * 16 + 1 = 81 native frames (frame 0 at t=0, frame 80 at t=5 s);
a 10 s request needs 161, made of two segments of 85 where the second starts from the
last ``overlap`` (9) frames of the first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SIZE_MULTIPLE = 16


def native_size(aspect_ratio: str, base_size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) the model renders for an aspect ratio, from a (long, short) base size."""
    long_side, short_side = max(base_size), min(base_size)
    if aspect_ratio == "16:9":
        return long_side, short_side
    if aspect_ratio == "9:16":
        return short_side, long_side
    if aspect_ratio == "1:1":
        # Same pixel budget as the landscape size, rounded down to a multiple of 16.
        side = int(math.sqrt(long_side * short_side)) // SIZE_MULTIPLE * SIZE_MULTIPLE
        return max(side, SIZE_MULTIPLE), max(side, SIZE_MULTIPLE)
    raise ValueError(f"unknown aspect ratio {aspect_ratio!r}")


def round_up_4k1(frames: int) -> int:
    """The smallest frame count of the form 4k+1 that is at least ``frames``."""
    return max(1, math.ceil((frames - 1) / 4)) * 4 + 1


@dataclass(frozen=True)
class SegmentPlan:
    """Frame counts of the segments, and how many native frames the request needs."""

    needed: int  # native frames covering [0, duration] at the native fps
    lengths: tuple[int, ...]  # frames generated per segment (each 4k+1)
    overlap: int  # frames each continuation shares with the segment before

    @property
    def produced(self) -> int:
        """Native frames after joining the segments (at least ``needed``)."""
        return self.lengths[0] + sum(length - self.overlap for length in self.lengths[1:])


def plan_segments(duration: float, fps: int, segment_frames: int, overlap: int) -> SegmentPlan:
    """Split a duration into the fewest segments; each may be one latent frame (4 frames) longer.

    One extra latent frame costs ~5% more time; a whole extra segment for it costs 100%.
    The extra frames go to the last segments first: 10 s with a 9-frame overlap is
    85 + 85 - 9 = 161 frames, two segments instead of three.
    """
    if overlap >= segment_frames:
        raise ValueError(f"overlap ({overlap}) must be shorter than a segment ({segment_frames})")
    needed = round(duration * fps) + 1
    stretch = segment_frames + 4
    count = 1
    while count * stretch - (count - 1) * overlap < needed:
        count += 1
    if count == 1:
        return SegmentPlan(needed=needed, lengths=(round_up_4k1(needed),), overlap=overlap)
    lengths = [segment_frames] * count
    missing = needed + (count - 1) * overlap - count * segment_frames
    if missing <= 0:
        lengths[-1] = round_up_4k1(segment_frames + missing)
    for index in reversed(range(count)):
        if missing <= 0:
            break
        lengths[index] += 4
        missing -= 4
    return SegmentPlan(needed=needed, lengths=tuple(lengths), overlap=overlap)


def output_positions(frame_count: int, native_fps: int, output_fps: int) -> list[float]:
    """For each output frame, its position in native frames (time-exact resampling)."""
    return [index * native_fps / output_fps for index in range(frame_count)]


def crop_to_aspect(
    width: int, height: int, out_width: int, out_height: int
) -> tuple[int, int, int, int]:
    """Centre crop (x, y, w, h) of a native frame with the output's aspect ratio."""
    if width * out_height > height * out_width:  # native is wider: trim the sides
        crop_width = max(1, round(height * out_width / out_height))
        return (width - crop_width) // 2, 0, crop_width, height
    crop_height = max(1, round(width * out_height / out_width))
    return 0, (height - crop_height) // 2, width, crop_height
