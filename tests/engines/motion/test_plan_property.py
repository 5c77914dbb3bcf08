"""Any prompt, any mix of references and settings: a complete plan whose camera stays inside."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refvid.engines.motion import MotionEngine
from refvid.engines.motion.framing import Window
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic

SHAPES = [(128, 128), (600, 400), (300, 1100), (1200, 320), (800, 800), (512, 2000)]
REFS = [Reference(i, synthetic(w, h, seed=i), f"{w}x{h}") for i, (w, h) in enumerate(SHAPES * 2)][:7]
WORDS = ["then", "cut to", "back to", "close-up on", "image 2", "@3", "the seventh image", "zoom in",
         "pan left", "orbit", "handheld", "static", "crane up", "whip pan to", "fade to black",
         "smooth", "noir", "warm", "slowly", "dramatic", "a man", "the book", ".", ",", "finally"]


def inside(window: Window, width: float, height: float, aspect: float) -> bool:
    c, s = abs(math.cos(window.angle)), abs(math.sin(window.angle))
    half_x = (window.w * c + window.w / aspect * s) / 2
    half_y = (window.w * s + window.w / aspect * c) / 2
    eps = 1e-6
    return (window.cx - half_x >= -eps and window.cx + half_x <= width + eps
            and window.cy - half_y >= -eps and window.cy + half_y <= height + eps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=40),
    count=st.integers(1, 7),
    aspect=st.sampled_from(["16:9", "9:16", "1:1"]),
    duration=st.sampled_from([5, 10]),
    amplitude=st.sampled_from(["auto", "small", "medium", "large"]),
    seed=st.integers(1, 999_999),
)
def test_any_request_plans_completely(
    words: list[str], count: int, aspect: str, duration: int, amplitude: str, seed: int
) -> None:
    request = GenerationRequest(
        prompt=" ".join(words), image_urls=["x"] * count, aspect_ratio=aspect,  # type: ignore[arg-type]
        duration=duration, movement_amplitude=amplitude, seed=seed,  # type: ignore[arg-type]
    )
    refs = REFS[:count]
    plan = MotionEngine().plan(request, refs)
    frames = request.frame_count
    assert plan.shots[0].start == 0 and plan.shots[-1].end == frames
    assert all(a.end == b.start and b.end - b.start >= 16 for a, b in zip(plan.shots, plan.shots[1:], strict=False))
    if frames // 16 >= count:
        assert {s.reference for s in plan.shots} == set(range(count))
    width, height = request.size
    for shot, path in zip(plan.shots, plan.paths, strict=True):
        layout = plan.layouts[shot.reference]
        for i in range(0, path.frames, 3):
            assert inside(path.at(i), layout.width, layout.height, width / height)
    # One cut per shot boundary, at that shot's first frame, strictly in order.
    assert plan.cut_times == [shot.start / plan.spec.fps for shot in plan.shots[1:]]
    assert plan.cut_times == sorted(set(plan.cut_times))
