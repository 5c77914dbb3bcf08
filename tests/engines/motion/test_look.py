"""Colour harmony across references and grades read from the prompt."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from refvid.engines.motion.look import apply_look, grade_for, harmony_target, lab_stats
from refvid.references import Reference


@pytest.mark.parametrize(
    ("prompt", "grade"),
    [("a sunny beach", "warm"), ("golden hour in the hills", "warm"), ("a city at night", "cool"),
     ("film noir detective", "noir"), ("black and white portrait", "noir"), ("vintage film look", "vintage"),
     ("a cat on a sofa", "none")],
)
def test_grade_from_prompt(prompt: str, grade: str) -> None:
    assert grade_for(prompt) == grade


def test_harmony_pulls_references_together(demo_refs: list[Reference]) -> None:
    stats = [lab_stats(r.image) for r in demo_refs]
    target = harmony_target(stats)
    after = [lab_stats(apply_look(r.image, s, target, "none")) for r, s in zip(demo_refs, stats, strict=True)]
    spread_before = np.ptp(np.stack([s[0][1:] for s in stats]), axis=0).sum()
    spread_after = np.ptp(np.stack([s[0][1:] for s in after]), axis=0).sum()
    assert spread_after < 0.7 * spread_before


def test_grades_change_colour_as_named(demo_refs: list[Reference]) -> None:
    image = demo_refs[0].image
    stats = lab_stats(image)
    def mean_lab(grade: str) -> np.ndarray:
        return cv2.cvtColor(apply_look(image, stats, None, grade), cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(axis=0)
    plain, warm, cool = mean_lab("none"), mean_lab("warm"), mean_lab("cool")
    assert warm[2] > plain[2] + 5 and cool[2] < plain[2] - 5
    noir = apply_look(image, stats, None, "noir").astype(int)
    assert np.abs(noir[:, :, 0] - noir[:, :, 1]).max() <= 3, "noir is grey"
    vintage = apply_look(image, stats, None, "vintage")
    lightness = cv2.cvtColor(vintage, cv2.COLOR_RGB2LAB)[:, :, 0]
    original = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[:, :, 0]
    assert original.min() < 10 and lightness.min() >= 18, "vintage lifts the blacks"


def test_no_target_and_no_grade_keeps_the_image(demo_refs: list[Reference]) -> None:
    image = demo_refs[2].image
    same = apply_look(image, lab_stats(image), None, "none")
    assert np.abs(same.astype(int) - image).mean() < 2.0
