"""WanPlan: the typed plan survives the JSON details it is stored as."""

from __future__ import annotations

import json

from refvid.engines.wan.plan import WanPlan
from refvid.engines.wan.references import ReferenceChoice
from refvid.engines.wan.sizes import plan_segments


def _plan(guidance: float = 5.0) -> WanPlan:
    return WanPlan(
        model="/models/wan",
        device="cuda",
        dtype="bfloat16",
        offload="group",
        native_width=832,
        native_height=480,
        native_fps=16,
        segments=plan_segments(10, 16, 81, 9),
        steps=50,
        guidance=guidance,
        flow_shift=16.0,
        prompt="A man on a bench.",
        negative_prompt="blurry",
        references=(ReferenceChoice(0, "cutout", "a person"), ReferenceChoice(1, "photo", "flat")),
        upscaled=True,
        warnings=("a warning",),
    )


def test_details_round_trip_through_json() -> None:
    plan = _plan()
    details = json.loads(json.dumps(plan.to_details()))
    assert WanPlan.from_details(details) == plan
    assert details["segments"] == [85, 85] and details["overlap_frames"] == 9
    assert details["references"][0] == {"index": 0, "presentation": "cutout", "reason": "a person"}


def test_guidance_of_one_or_less_drops_the_negative_prompt() -> None:
    assert _plan().negative == "blurry"
    assert _plan(guidance=1.0).negative is None
