"""What a wan render will do, typed; turned into the plan's JSON details only at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from refvid.engines.wan.references import ReferenceChoice
from refvid.engines.wan.sizes import SegmentPlan

RETIMING = "DIS optical flow, both neighbours warped and blended; Lanczos upscale"


@dataclass(frozen=True)
class WanPlan:
    """Everything ``render`` reads back from a plan: sizes, segments, sampling, text, references."""

    model: str
    device: str
    dtype: str
    offload: str
    native_width: int
    native_height: int
    native_fps: int
    segments: SegmentPlan
    steps: int
    guidance: float
    flow_shift: float
    prompt: str
    negative_prompt: str
    references: tuple[ReferenceChoice, ...]
    upscaled: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def negative(self) -> str | None:
        """The negative prompt when guidance uses it (a scale of 1 or less turns it off)."""
        return self.negative_prompt if self.guidance > 1.0 else None

    def to_details(self) -> dict[str, Any]:
        """The JSON-able ``Plan.details`` (keys kept stable for ``refvid plan`` and results)."""
        return {
            "model": self.model,
            "device": self.device,
            "dtype": self.dtype,
            "offload": self.offload,
            "native_width": self.native_width,
            "native_height": self.native_height,
            "native_fps": self.native_fps,
            "native_frames": self.segments.needed,
            "segments": list(self.segments.lengths),
            "overlap_frames": self.segments.overlap,
            "steps": self.steps,
            "guidance": self.guidance,
            "flow_shift": self.flow_shift,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "references": [choice.to_dict() for choice in self.references],
            "upscaled": self.upscaled,
            "retiming": RETIMING,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> WanPlan:
        """Read back what :meth:`to_details` wrote (a plan may have crossed a process boundary)."""
        return cls(
            model=details["model"],
            device=details["device"],
            dtype=details["dtype"],
            offload=details["offload"],
            native_width=int(details["native_width"]),
            native_height=int(details["native_height"]),
            native_fps=int(details["native_fps"]),
            segments=SegmentPlan(
                needed=int(details["native_frames"]),
                lengths=tuple(int(n) for n in details["segments"]),
                overlap=int(details["overlap_frames"]),
            ),
            steps=int(details["steps"]),
            guidance=float(details["guidance"]),
            flow_shift=float(details["flow_shift"]),
            prompt=details["prompt"],
            negative_prompt=details["negative_prompt"],
            references=tuple(
                ReferenceChoice(int(r["index"]), r["presentation"], r["reason"])
                for r in details["references"]
            ),
            upscaled=bool(details["upscaled"]),
            warnings=tuple(details.get("warnings", ())),
        )
