"""The engine interface: a plan of shots, then frames streamed one at a time.

An engine is one module behind this protocol; ``refvid.engines.get_engine`` finds it by
name. Frames are I420 (``yuv420p``) arrays of shape ``(height * 3 // 2, width)``, the
layout the encoder consumes without conversion. Engines that draw in RGB convert with
``refvid.media.color.rgb_to_i420``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from refvid.references import Reference
from refvid.request import FPS, GenerationRequest

ProgressFn = Callable[[float], None]
"""Called with the fraction of frames rendered, 0..1."""
CancelledFn = Callable[[], bool]
"""Polled between frames (or steps); True stops the render with ``refvid.errors.Cancelled``."""


@dataclass(frozen=True)
class VideoSpec:
    """What the encoder must produce."""

    width: int
    height: int
    frame_count: int
    fps: int = FPS

    @classmethod
    def for_request(cls, request: GenerationRequest) -> VideoSpec:
        width, height = request.size
        return cls(width=width, height=height, frame_count=request.frame_count)

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


@dataclass
class Plan:
    """What an engine will render: plain data, printable as JSON by ``refvid plan``."""

    engine: str
    seed: int
    spec: VideoSpec
    cut_times: list[float]  # seconds at which one shot hands over to the next
    details: dict[str, Any] = field(default_factory=dict)  # engine-specific, JSON-able

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "seed": self.seed,
            "width": self.spec.width,
            "height": self.spec.height,
            "fps": self.spec.fps,
            "frame_count": self.spec.frame_count,
            "cut_times": [round(t, 4) for t in self.cut_times],
            **self.details,
        }


class Engine(Protocol):
    """Turns a request (with a concrete, non-zero seed) and its references into frames."""

    name: str

    def plan(self, request: GenerationRequest, references: Sequence[Reference]) -> Plan:
        """Decide everything that will be rendered; cheap, deterministic in the seed."""
        ...

    def render(
        self,
        plan: Plan,
        request: GenerationRequest,
        references: Sequence[Reference],
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield exactly ``plan.spec.frame_count`` I420 frames, one at a time."""
        ...
