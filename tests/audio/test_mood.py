from __future__ import annotations

import numpy as np
import pytest

from refvid.audio.mood import MOODS, detect_mood


@pytest.mark.parametrize(
    ("prompt", "mood"),
    [
        ("A sunny, happy afternoon on the beach", "upbeat"),
        ("Calm and soft, a thoughtful look out of the window", "calm"),
        ("An epic, dramatic battle in a tense storm", "dramatic"),
        ("A mysterious street at night under the moon", "mysterious"),
        ("A playful puppy chases a toy", "playful"),
    ],
)
def test_mood_words_choose_the_mood(prompt: str, mood: str) -> None:
    chosen, words = detect_mood(prompt, np.random.default_rng(0))
    assert chosen == mood
    assert words and all(w in prompt.lower() for w in words)


def test_most_mood_words_win_and_earliest_breaks_a_tie() -> None:
    rng = np.random.default_rng(0)
    assert detect_mood("a calm, soft, gentle morning that turns dramatic", rng)[0] == "calm"
    assert detect_mood("dramatic then calm", rng)[0] == "dramatic"
    assert detect_mood("calm then dramatic", rng)[0] == "calm"


def test_without_mood_words_the_seed_chooses_and_every_mood_is_reachable() -> None:
    prompt = "the man on the bench, then a close-up of the book"
    picks = [detect_mood(prompt, np.random.default_rng(seed)) for seed in range(60)]
    assert {mood for mood, _ in picks} == set(MOODS)
    assert all(words == [] for _, words in picks)


def test_whole_words_only() -> None:
    # "sunday" must not read as "sun", nor "nightingale" as "night"
    mood, words = detect_mood("sunday nightingale", np.random.default_rng(3))
    assert words == []
    assert mood in MOODS


def test_every_mood_is_coherent() -> None:
    for profile in MOODS.values():
        lo, hi = profile.tempo
        assert 60 <= lo < hi <= 140
        assert 0 < profile.energy <= 1 and 0 < profile.reverb < 0.5
    # the percussive moods are exactly the ones with a groove
    assert {m for m, p in MOODS.items() if p.drums is None} == {"calm"}
    assert min(MOODS["upbeat"].tempo) > max(MOODS["calm"].tempo)
    assert min(MOODS["playful"].tempo) > max(MOODS["calm"].tempo)
