"""Transitions between shots, as frame operations on I420 buffers.

The timeline decides which shots are visible on a frame and how they combine; the
blending itself works on whole I420 arrays (luma and chroma planes together), which is
exact for crossfades and fades because both are per-sample linear.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from refvid.media.color import BLACK_YUV, i420_planes

WHIP_TRAVEL = 0.45  # of the frame width, at the cut
WHIP_MAX_BLUR = 151


@dataclass(frozen=True)
class Appearance:
    """How one shot appears on one frame."""

    shot: int
    local_frame: int  # frame index inside the shot's visible span
    weight: float = 1.0  # crossfade weight, 1 = alone
    brightness: float = 1.0  # fade through black, 1 = untouched
    whip: float = 0.0  # signed offset as a fraction of frame width (whip pans)
    blur: float = 0.0  # horizontal motion-blur length, as a fraction of frame width


@dataclass(frozen=True)
class Span:
    """Frames [first, last) on which a shot is visible."""

    first: int
    last: int


@dataclass(frozen=True)
class Timeline:
    """Cut points, transitions and the span on which each shot is visible."""

    cuts: list[int]  # shot starts, then the frame count
    kinds: list[str]  # transition into each shot
    lengths: list[int]  # frames of each transition, at most half of either shot
    spans: list[Span]
    fade_out: int = 0  # frames over which the video's end fades to black (0: it ends on a cut)

    @classmethod
    def build(
        cls, starts: list[int], kinds: list[str], requested: list[int], frame_count: int, fade_out: int = 0
    ) -> Timeline:
        """Lay out shots starting at ``starts`` with the requested transition lengths."""
        cuts = [*starts, frame_count]
        lengths = []
        for i, frames in enumerate(requested):
            before = cuts[i] - cuts[i - 1] if i else cuts[1]
            lengths.append(min(frames, min(cuts[i + 1] - cuts[i], before) // 2))
        spans = []
        for i in range(len(starts)):
            # Crossfades widen a shot's span into its neighbours; fades and whips don't.
            first, last = cuts[i], cuts[i + 1]
            if kinds[i] == "crossfade":
                first -= lengths[i] // 2
            if i + 1 < len(kinds) and kinds[i + 1] == "crossfade":
                last += lengths[i + 1] - lengths[i + 1] // 2
            spans.append(Span(max(0, first), min(frame_count, last)))
        last = frame_count - starts[-1]
        return cls(cuts, kinds, lengths, spans, min(fade_out, last // 2))

    def at(self, frame: int) -> list[Appearance]:
        """The shots visible on ``frame`` and how each is drawn (one, or two in a crossfade)."""
        current = next(i for i in range(len(self.spans)) if self.cuts[i] <= frame < self.cuts[i + 1])
        out = [
            self._appearance(i, frame)
            for i in (current - 1, current, current + 1)
            if 0 <= i < len(self.spans) and self.spans[i].first <= frame < self.spans[i].last
        ]
        if len(out) == 2:
            # Crossfade: the incoming shot's weight rises linearly across the overlap.
            incoming = out[1].shot
            start = self.cuts[incoming] - self.lengths[incoming] // 2
            alpha = (frame - start + 1) / (self.lengths[incoming] + 1)
            out = [replace(out[0], weight=1 - alpha), replace(out[1], weight=alpha)]
        return out

    def _appearance(self, shot: int, frame: int) -> Appearance:
        cuts, kinds, lengths = self.cuts, self.kinds, self.lengths
        brightness, whip, blur = 1.0, 0.0, 0.0
        half_in = max(1, lengths[shot] // 2)
        if kinds[shot] in ("fade", "whip") and cuts[shot] <= frame < cuts[shot] + half_in:
            # Coming in: from black, or decelerating out of the whip.
            progress = (cuts[shot] + half_in - frame) / (half_in + 1)
            if kinds[shot] == "fade":
                brightness = 1 - progress
            else:
                whip, blur = -WHIP_TRAVEL * progress**2, _whip_blur(progress, half_in)
        nxt = shot + 1
        if nxt < len(kinds) and kinds[nxt] in ("fade", "whip"):
            half_out = max(1, lengths[nxt] - lengths[nxt] // 2)
            if cuts[nxt] - half_out <= frame < cuts[nxt]:
                progress = (frame - (cuts[nxt] - half_out) + 1) / (half_out + 1)
                if kinds[nxt] == "fade":
                    brightness = 1 - progress
                else:
                    whip, blur = WHIP_TRAVEL * progress**2, _whip_blur(progress, half_out)
        end = self.cuts[-1]
        if self.fade_out and frame >= end - self.fade_out:
            # The ending: down to black, reached on the very last frame.
            brightness = min(brightness, (end - 1 - frame) / self.fade_out)
        return Appearance(shot, frame - self.spans[shot].first, 1.0, brightness, whip, blur)


def _whip_blur(progress: float, frames: int) -> float:
    """Blur length matching the whip's speed (frame widths travelled per frame)."""
    return 2 * WHIP_TRAVEL * progress / frames


def motion_blur(frame: np.ndarray, fraction: float) -> None:
    """Horizontal box blur over ``fraction`` of the frame width on an I420 frame, in place."""
    length = int(min(WHIP_MAX_BLUR, fraction * frame.shape[1])) | 1
    if length <= 1:
        return
    y, u, v = i420_planes(frame)
    cv2.blur(y, (length, 1), dst=y, borderType=cv2.BORDER_REFLECT101)
    half = max(1, length // 2) | 1
    cv2.blur(u, (half, 1), dst=u, borderType=cv2.BORDER_REFLECT101)
    cv2.blur(v, (half, 1), dst=v, borderType=cv2.BORDER_REFLECT101)


def black_frame(width: int, height: int) -> np.ndarray:
    """An I420 frame of video black (Y 16, U and V 128)."""
    frame = np.empty((height * 3 // 2, width), dtype=np.uint8)
    y, u, v = i420_planes(frame)
    y[:] = BLACK_YUV[0]
    u[:] = BLACK_YUV[1]
    v[:] = BLACK_YUV[2]
    return frame


def blend(a: np.ndarray, weight_a: float, b: np.ndarray, out: np.ndarray) -> None:
    """``out = a * weight_a + b * (1 - weight_a)`` over whole I420 frames, rounded."""
    cv2.addWeighted(a, weight_a, b, 1.0 - weight_a, 0.0, dst=out)
