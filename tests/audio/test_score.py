from __future__ import annotations

import pytest

from refvid.audio import plan_music
from refvid.audio.score import compose
from refvid.audio.theory import chord_pitch_classes, degree_to_midi, scale_pitch_classes

PROMPTS = {
    "upbeat": "a happy sunny day",
    "calm": "a calm soft morning",
    "dramatic": "an epic dramatic chase",
    "mysterious": "a mysterious night street",
    "playful": "a playful puppy",
}


@pytest.mark.parametrize("mood", sorted(PROMPTS))
def test_every_pitched_note_is_in_the_key(mood: str) -> None:
    for seed in (3, 77, 4040):
        plan = plan_music(PROMPTS[mood], seed, 10.0, [2.5, 5.5, 8.0])
        assert plan.mood == mood
        score = compose(plan)
        scale = set(scale_pitch_classes(*plan.tonic_mode))
        for layer in (score.chords, score.bass, score.arp, score.lead):
            assert {round(n.midi) % 12 for n in layer} <= scale


@pytest.mark.parametrize("mood", sorted(PROMPTS))
def test_a_piece_has_every_part_and_each_shot_its_own_phrase(mood: str) -> None:
    plan = plan_music(PROMPTS[mood], 12, 10.0, [3.0, 6.5])
    score = compose(plan)
    assert len({n.midi for n in score.chords}) >= 4  # the harmony moves
    assert len({n.midi for n in score.bass}) >= 2
    assert len({n.midi for n in score.lead}) >= 3  # a melody, not a drone
    assert (len(score.arp) > 0) == (plan.arp is not None)
    assert (len(score.hits) > 0) == (plan.drums is not None)
    for section in plan.sections:
        # the harmony changes exactly where the shot does, and the melody plays in every shot
        first_root = degree_to_midi(*plan.tonic_mode, section.roots[0], 2) % 12
        assert any(
            abs(n.start - section.start) < 0.02 and round(n.midi) % 12 == first_root
            for n in score.bass
        )
        assert any(section.start - 0.02 <= n.start < section.end for n in score.lead)
    if plan.drums is not None:
        for section in plan.sections[1:]:
            assert any(
                h.sound == "crash" and abs(h.start - section.start) < 1e-6 for h in score.hits
            )


def test_lead_sits_above_the_bass_and_notes_are_sane() -> None:
    score = compose(plan_music("a playful cat", 5, 10.0, [4.0]))
    assert min(n.midi for n in score.lead) > max(n.midi for n in score.bass)
    for n in score.chords + score.bass + score.arp + score.lead:
        assert n.gate > 0 and 0 < n.velocity <= 1.2 and 24 <= n.midi <= 108


def test_swing_delays_the_off_beats_only() -> None:
    plan = plan_music("a playful cat", 5, 5.0, [])
    assert plan.swing > 0
    beats = sorted({round(h.start / plan.beat, 3) for h in compose(plan).hits})
    offs = [b % 1 for b in beats if b % 1]
    assert offs and all(abs(o - 0.5) > 0.05 for o in offs if 0.4 < o < 0.7)
    assert 0.0 in [b % 1 for b in beats]


@pytest.mark.parametrize("mood", sorted(PROMPTS))
def test_registers_and_a_resolved_ending(mood: str) -> None:
    for seed in (2, 9, 100):
        plan = plan_music(PROMPTS[mood], seed, 10.0, [2.5, 5.0, 7.5])
        score = compose(plan)
        tonic = plan.tonic_mode[0]
        # bass roots in C2..B2 (octave pops and fifths above), lead clear of the bass
        assert all(36 <= n.midi <= 60 for n in score.bass)
        assert all(52 <= n.midi <= 92 for n in score.lead)
        assert all(n.midi <= 96 for n in score.arp + score.chords)
        # the melody ends on the tonic and rings to the end; the last chord is the tonic chord
        assert round(score.lead[-1].midi) % 12 == tonic
        assert score.lead[-1].start + score.lead[-1].gate >= plan.duration - 1e-6
        last_bass = max((n for n in score.bass if n.start < plan.duration), key=lambda n: n.start)
        opening = chord_pitch_classes(*plan.tonic_mode, plan.sections[-1].roots[0])
        ends_home = round(last_bass.midi) % 12 in (tonic, (tonic + 7) % 12)
        # (unless the last shot is too short for more than its own opening chord)
        assert ends_home or abs(last_bass.start - plan.sections[-1].start) < 2 * plan.beat
        assert ends_home or round(last_bass.midi) % 12 in opening


def test_played_not_quantised_but_the_kick_stays_on_the_grid() -> None:
    plan = plan_music("a happy sunny day", 8, 10.0, [5.0])
    score = compose(plan)
    # lead notes drift a few ms off the grid (seeded), never more than 12 ms
    offsets = [
        (n.start / plan.beat - round(n.start / plan.beat * 4) / 4) * plan.beat
        for n in score.lead[:-1]
    ]
    assert max(abs(o) for o in offsets) <= 0.012 + 1e-9
    assert len({round(o, 5) for o in offsets}) > 3
    # plucked chords are strummed upward, a few ms per string
    first = sorted((n for n in score.chords if n.start < 0.05), key=lambda n: n.start)
    assert [n.midi for n in first] == sorted(n.midi for n in first)
    assert first[-1].start - first[0].start == pytest.approx(0.012, abs=1e-9)
    for hit in score.hits:
        if hit.sound == "kick":
            assert hit.start / plan.beat == pytest.approx(round(hit.start / plan.beat), abs=1e-9)
    assert compose(plan) == score  # and it is all seeded


@pytest.mark.parametrize("mood", ["calm", "dramatic", "mysterious"])
def test_strong_beats_of_the_melody_sit_on_the_sounding_chord(mood: str) -> None:
    for seed in (4, 40, 400):
        plan = plan_music(PROMPTS[mood], seed, 5.0, [1.6, 3.3])  # short shots: half-bar chords
        score = compose(plan)
        onsets = sorted({round(n.start, 3) for n in score.chords})
        checked = 0
        for note in score.lead[:-1]:  # the last note is bent home to the tonic
            section = max(
                (s for s in plan.sections if s.start <= note.start + 0.02), key=lambda s: s.start
            )
            beat = (note.start - section.start) / plan.beat
            if abs(beat - round(beat)) > 0.05 or round(beat) % 2:
                continue
            chord_at = max(t for t in onsets if t <= note.start + 0.02)
            sounding = {round(n.midi) % 12 for n in score.chords if abs(n.start - chord_at) < 0.02}
            assert round(note.midi) % 12 in sounding
            checked += 1
        assert checked >= 1
