from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from refvid.audio import SAMPLE_RATE, plan_music, render_music
from refvid.audio.theory import scale_pitch_classes

from .measure import (
    integrated_lufs,
    key_energy_fraction,
    onset_strength,
    tempo_period,
    true_peak_dbtp,
)

PROMPTS = {
    "upbeat": "a happy sunny day at the beach",
    "calm": "a calm soft morning by the lake",
    "dramatic": "an epic dramatic chase in the storm",
    "mysterious": "a mysterious street at night",
    "playful": "a playful puppy with a toy",
}
CUTS = [1.9, 3.4]


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[object, np.ndarray]]:
    out = {}
    for mood, prompt in PROMPTS.items():
        plan = plan_music(prompt, 321, 5.0, CUTS)
        out[mood] = (plan, render_music(plan))
    return out


@pytest.mark.parametrize("mood", sorted(PROMPTS))
def test_fitted_mastered_and_in_key(mood: str, rendered: dict) -> None:
    plan, x = rendered[mood]
    assert x.dtype == np.float32 and x.shape == (5 * SAMPLE_RATE, 2)
    assert np.all(np.isfinite(x)) and np.max(np.abs(x)) < 1.0
    assert integrated_lufs(x) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(x) <= -1.0
    # fades: silent first sample, last sample exactly zero, full level in the middle
    assert np.max(np.abs(x[0])) < 1e-3 and np.max(np.abs(x[-1])) == 0.0
    assert np.max(np.abs(x[: SAMPLE_RATE // 100])) < np.max(
        np.abs(x[SAMPLE_RATE : 2 * SAMPLE_RATE])
    )
    # music, not noise: tonal energy sits in the key's seven pitch classes (noise gets ~0.58)
    tonic, mode = plan.tonic_mode
    assert key_energy_fraction(x, set(scale_pitch_classes(tonic, mode))) > 0.85
    # stereo, not dual mono
    assert not np.allclose(x[:, 0], x[:, 1], atol=1e-3)


@pytest.mark.parametrize("mood", ["upbeat", "dramatic", "mysterious", "playful"])
def test_percussive_moods_have_a_beat_at_the_planned_tempo(mood: str, rendered: dict) -> None:
    plan, x = rendered[mood]
    assert plan.drums is not None
    assert tempo_period(x) == pytest.approx(plan.beat, rel=0.04)


def test_upbeat_is_faster_and_busier_than_calm(rendered: dict) -> None:
    up_plan, up = rendered["upbeat"]
    calm_plan, calm = rendered["calm"]
    assert up_plan.tempo_bpm > calm_plan.tempo_bpm + 20
    assert onset_strength(up) > 1.8 * onset_strength(calm)
    # the measured beat of the upbeat track is shorter than the calm one's planned beat
    assert tempo_period(up) < calm_plan.beat


def test_same_plan_same_samples_and_seeds_differ() -> None:
    plan = plan_music("a man on a bench", 31337, 5.0, CUTS)
    a = render_music(plan)
    assert np.array_equal(a, render_music(plan))
    other = render_music(plan_music("a man on a bench", 31338, 5.0, CUTS))
    assert not np.array_equal(a, other)
    assert np.mean(np.abs(a - other)) > 0.01


@pytest.mark.parametrize("duration", [5.0, 10.0, 2.37])
def test_length_is_exactly_the_video(duration: float) -> None:
    x = render_music(plan_music("a playful cat", 8, duration, [duration / 2]))
    assert x.shape == (round(duration * SAMPLE_RATE), 2)


@pytest.mark.slow
def test_identical_in_a_fresh_process_with_another_hash_seed() -> None:
    code = (
        "import hashlib, sys; from refvid.audio import plan_music, render_music; "
        "x = render_music(plan_music('a mysterious night', 2024, 2.0, [1.0])); "
        "sys.stdout.write(hashlib.sha256(x.tobytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    here = render_music(plan_music("a mysterious night", 2024, 2.0, [1.0]))
    assert out.stdout == hashlib.sha256(here.tobytes()).hexdigest()
