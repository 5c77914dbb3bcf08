from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refvid.audio import MusicPlan, plan_music
from refvid.audio.mood import MOODS
from refvid.audio.score import compose
from refvid.audio.theory import parse_key, scale_pitch_classes


def test_plan_round_trips_through_json_exactly() -> None:
    plan = plan_music("a sunny day, then a close-up of the ball", 4242, 10.0, [3.1, 6.4])
    data = json.loads(json.dumps(plan.to_dict()))
    assert MusicPlan.from_dict(data) == plan
    assert MusicPlan.from_dict(data).to_dict() == plan.to_dict()


def test_plan_carries_mood_tempo_and_key_for_refvid_plan() -> None:
    d = plan_music("a calm, soft morning", 7, 5.0, []).to_dict()
    assert d["mood"] == "calm" and d["mood_words"] == ["calm", "morning", "soft"]
    lo, hi = MOODS["calm"].tempo
    assert lo <= d["tempo_bpm"] <= hi
    _, mode = parse_key(d["key"])
    assert mode in MOODS["calm"].modes
    assert len(d["scale"]) == 7 and d["scale"][0] == d["key"].split()[0]


def test_same_inputs_same_plan_and_seeds_vary_it() -> None:
    a = plan_music("a man on a bench", 11, 5.0, [2.0])
    assert plan_music("a man on a bench", 11, 5.0, [2.0]) == a
    plans = {
        json.dumps(plan_music("a man on a bench", s, 5.0, [2.0]).to_dict()) for s in range(1, 21)
    }
    assert len(plans) == 20
    keys = {plan_music("a man on a bench", s, 5.0, [2.0]).key for s in range(1, 21)}
    assert len(keys) >= 6


def test_upbeat_is_faster_than_calm_for_every_seed() -> None:
    for seed in range(1, 30):
        fast = plan_music("a happy, sunny party", seed, 5.0, [2.5]).tempo_bpm
        slow = plan_music("a calm, gentle lake", seed, 5.0, [2.5]).tempo_bpm
        assert fast > slow


@pytest.mark.parametrize("cuts", [[], [2.4], [1.7, 3.3], [1.2, 2.9, 5.1, 7.7]])
def test_one_section_per_shot_starting_on_the_beat_nearest_the_cut(cuts: list[float]) -> None:
    duration = 10.0 if len(cuts) > 3 else 5.0
    plan = plan_music("a playful cat", 99, duration, cuts)
    assert len(plan.sections) == len(cuts) + 1
    assert plan.sections[0].start == 0.0 and plan.sections[-1].end == duration
    for section, cut in zip(plan.sections[1:], cuts, strict=True):
        assert section.start == pytest.approx(section.start_beat * plan.beat, abs=1e-5)
        assert abs(section.start - cut) <= plan.beat / 2 + 1e-6
    for a, b in zip(plan.sections, plan.sections[1:], strict=False):
        assert a.end == b.start
        assert a.roots != b.roots  # the phrase changes at the cut


def test_cuts_closer_than_a_beat_or_outside_the_video_share_a_section() -> None:
    plan = plan_music("a sunny day", 5, 5.0, [2.0, 2.05, -1.0, 0.0, 5.0, 9.0])
    assert len(plan.sections) == 2


def test_progressions_are_diatonic_and_named() -> None:
    for seed in range(1, 15):
        plan = plan_music("a mysterious night", seed, 10.0, [3.0, 6.0])
        tonic, mode = plan.tonic_mode
        assert plan.scale[0] == plan.key.split()[0]
        pcs = tuple(parse_key(f"{name} {mode}")[0] for name in plan.scale)
        assert pcs == scale_pitch_classes(tonic, mode)
        for s in plan.sections:
            assert len(s.roots) == len(s.progression) and all(0 <= r < 7 for r in s.roots)


def test_fades_fit_the_video() -> None:
    plan = plan_music("x", 1, 5.0, [])
    assert 0 < plan.fade_in <= 0.5
    assert 0.5 <= plan.fade_out <= 2.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mood", "sad", "music.mood"),
        ("key", "H minor", "key must look like"),
        ("sections", None, "bad field"),
    ],
)
def test_from_dict_names_the_bad_field(field: str, value: object, message: str) -> None:
    d = plan_music("x", 1, 5.0, []).to_dict()
    d[field] = value
    with pytest.raises(ValueError, match=message):
        MusicPlan.from_dict(d)


@pytest.mark.parametrize("duration", [0.0, -1.0, float("nan"), float("inf"), 600.5])
def test_duration_must_be_positive_and_bounded(duration: float) -> None:
    with pytest.raises(ValueError, match="duration must be positive and at most 600 s"):
        plan_music("x", 1, duration, [])


def test_seed_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        plan_music("x", -1, 5.0, [])
    assert plan_music("x", 0, 5.0, []).seed == 0


@settings(max_examples=60, deadline=None)
@given(
    prompt=st.text(max_size=200),
    seed=st.integers(1, 999_999),
    duration=st.sampled_from([5.0, 10.0]) | st.floats(0.5, 12.0),
    cuts=st.lists(st.floats(-1.0, 13.0, allow_nan=False), max_size=8),
)
def test_any_request_gives_a_valid_plan(
    prompt: str, seed: int, duration: float, cuts: list[float]
) -> None:
    plan = plan_music(prompt, seed, duration, cuts)
    assert plan.mood in MOODS
    lo, hi = MOODS[plan.mood].tempo
    assert lo <= plan.tempo_bpm <= hi
    starts = [s.start_beat for s in plan.sections]
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert all(s.start < s.end <= duration for s in plan.sections)
    assert len(plan.sections) <= 1 + len([c for c in cuts if 0 < c < duration])
    assert MusicPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    score = compose(plan)  # and every plan expands to a score
    assert all(n.start >= 0 and n.gate > 0 for n in score.chords + score.bass + score.lead)


@pytest.mark.parametrize("seed", [1, 999_999])
def test_seed_limits(seed: int) -> None:
    plan = plan_music("a sunny day", seed, 5.0, [2.5])
    assert plan.seed == seed and plan_music("a sunny day", seed, 5.0, [2.5]) == plan


def test_seeds_vary_the_instruments_within_the_mood() -> None:
    for mood, prompt in (
        ("calm", "a calm lake"),
        ("mysterious", "a dark night"),
        ("playful", "a cute puppy"),
    ):
        plans = [plan_music(prompt, s, 5.0, []) for s in range(1, 40)]
        assert {p.lead for p in plans} == set(MOODS[mood].leads)
        assert all(p.arp != p.lead for p in plans)
        assert all(p.arp in MOODS[mood].arps or p.arp is None for p in plans)
