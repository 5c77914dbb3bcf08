"""What the encoder must produce: frame size, frame count and rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from refvid.request import FPS

if TYPE_CHECKING:
    from refvid.request import GenerationRequest


@dataclass(frozen=True)
class VideoSpec:
    """The size and length of a video: the engines draw it, the encoder and cover write it."""

    width: int
    height: int
    frame_count: int
    fps: int = FPS

    @classmethod
    def for_request(cls, request: GenerationRequest) -> VideoSpec:
        """The contract's output for a request: its aspect ratio's size, duration × 24 frames."""
        width, height = request.size
        return cls(width=width, height=height, frame_count=request.frame_count)

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frame_count / self.fps
