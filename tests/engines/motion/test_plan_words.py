"""Every word the motion engine recognises reaches the plan: none is dropped on the way.

Two prompts that differ only in their camera word once gave byte-identical videos because
the word was lost between the prompt and the plan; here each recognised phrase must show
up in the shot it belongs to, whatever the seed and wherever it stands in the sentence.
"""

from __future__ import annotations

import pytest

from refvid.engines.motion import MotionEngine
from refvid.references import Reference
from refvid.request import GenerationRequest
from tests.conftest import synthetic

REFS = [Reference(i, synthetic(640, 480, seed=i), f"synthetic {i}") for i in range(2)]
MOVES = {
    "static": ["static", "locked-off", "on a tripod"],
    "handheld": ["handheld", "shaky cam"],
    "orbit": ["orbit", "arc around", "rotates", "turntable"],
    "crane_up": ["crane up", "rising"],
    "pull_out": ["zoom out", "pull back", "reveal"],
    "push_in": ["zoom in", "push in", "slow zoom", "dolly in"],
    "pan_left": ["pan left"],
    "pan_right": ["pan right"],
    "tilt_up": ["tilt up"],
    "tilt_down": ["tilt down"],
    "truck_left": ["track left"],
    "truck_right": ["truck right"],
}
FRAMINGS = {"close-up": ["close-up", "macro"], "medium": ["medium shot", "waist-up"], "wide": ["wide shot", "establishing shot"]}
GRADES = {"noir": "black and white", "vintage": "vintage film", "warm": "golden hour", "cool": "moonlit"}
TEMPLATES = ["the cat, {}", "{} on the cat", "the cat. Then the dog, {}"]


def _planned(prompt: str, seed: int, phrase: str) -> tuple[str, str, str]:
    """(move, framing) of the shot whose text holds ``phrase``, and the plan's grade."""
    count = 2 if "dog" in prompt else 1
    request = GenerationRequest(prompt=prompt, image_urls=["x"] * count, seed=seed)
    plan = MotionEngine().plan(request, REFS[:count])
    (shot,) = [shot for shot in plan.shots if phrase in shot.text]
    return shot.move, shot.framing, plan.grade


@pytest.mark.parametrize(("move", "phrase"), [(m, p) for m, ps in MOVES.items() for p in ps])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_camera_phrase_sets_its_shots_move(move: str, phrase: str, template: str) -> None:
    for seed in (1, 2):
        assert _planned(template.format(phrase), seed, phrase)[0] == move


@pytest.mark.parametrize(("framing", "phrase"), [(f, p) for f, ps in FRAMINGS.items() for p in ps])
def test_every_framing_phrase_sets_its_shots_framing(framing: str, phrase: str) -> None:
    for template in TEMPLATES:
        assert _planned(template.format(phrase), 5, phrase)[1] == framing


@pytest.mark.parametrize(("grade", "phrase"), GRADES.items())
def test_every_look_phrase_sets_the_grade(grade: str, phrase: str) -> None:
    assert _planned(f"the cat, {phrase}", 5, phrase)[2] == grade


def test_prompts_differing_in_one_camera_word_plan_differently() -> None:
    phrases = ("zoom in", "zoom out", "pan left", "orbit")
    plans = {phrase: _planned(f"the cat on the sofa, {phrase}", 42, phrase)[0] for phrase in phrases}
    assert len(set(plans.values())) == len(plans), plans
