"""The engine interface: a plan of shots, then frames streamed one at a time.

An engine is one module behind this protocol; ``refvid.engines.get_engine`` finds it by
name. Frames are I420 (``yuv420p``) arrays of shape ``(height * 3 // 2, width)``, the
layout the encoder consumes without conversion. Engines that draw in RGB convert with
``refvid.media.color.rgb_to_i420``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from refvid.media.spec import VideoSpec
from refvid.references import Reference
from refvid.request import GenerationRequest

if TYPE_CHECKING:
    from refvid.audio import MusicPlan

__all__ = ["CancelledFn", "Engine", "Plan", "ProgressFn", "VideoSpec"]

ProgressFn = Callable[[float], None]
"""Called with the fraction of frames rendered, 0..1."""
CancelledFn = Callable[[], bool]
"""Polled between frames (or steps); True stops the render with ``refvid.errors.Cancelled``."""


@dataclass
class Plan:
    """What will be rendered: typed data, turned into JSON only at the edges (``to_dict``)."""

    engine: str
    seed: int
    spec: VideoSpec
    cut_times: list[float]  # seconds at which one shot hands over to the next
    details: dict[str, Any] = field(default_factory=dict)  # engine-specific, JSON-able
    music: MusicPlan | None = None  # set by generate.make_plan when bgm is on

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-able data, for ``refvid plan`` and results."""
        data: dict[str, Any] = {
            "engine": self.engine,
            "seed": self.seed,
            "width": self.spec.width,
            "height": self.spec.height,
            "fps": self.spec.fps,
            "frame_count": self.spec.frame_count,
            "cut_times": [round(t, 4) for t in self.cut_times],
            **self.details,
        }
        if self.music is not None:
            data["music"] = self.music.to_dict()
        return data


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
