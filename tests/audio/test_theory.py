from __future__ import annotations

import pytest

from refvid.audio.theory import (
    chord_pitch_classes,
    degree_to_midi,
    key_name,
    midi_to_hz,
    parse_key,
    roman,
    scale_names,
    scale_pitch_classes,
    voice_chord,
)


def test_scales_and_keys() -> None:
    assert scale_pitch_classes(9, "minor") == (9, 11, 0, 2, 4, 5, 7)  # A minor = white keys
    assert scale_pitch_classes(0, "major") == (0, 2, 4, 5, 7, 9, 11)
    assert scale_pitch_classes(2, "dorian") == (2, 4, 5, 7, 9, 11, 0)
    assert key_name(9, "minor") == "A minor"
    assert parse_key("Eb lydian") == (3, "lydian")
    for bad in ("H minor", "A", "A blues", "A minor x", "Ax minor", "a minor"):
        with pytest.raises(ValueError, match="key must look like"):
            parse_key(bad)


def test_degrees_chords_and_numerals() -> None:
    assert degree_to_midi(0, "major", 0, 4) == 60  # middle C
    assert degree_to_midi(0, "major", 7, 4) == 72
    assert degree_to_midi(0, "major", -1, 4) == 59
    assert chord_pitch_classes(0, "major", 4) == (7, 11, 2)  # G major in C
    assert chord_pitch_classes(9, "minor", 0, 4) == (9, 0, 4, 7)  # Am7
    assert [roman("major", d) for d in range(7)] == ["I", "ii", "iii", "IV", "V", "vi", "vii°"]
    assert [roman("minor", d) for d in range(7)] == ["i", "ii°", "III", "iv", "v", "VI", "VII"]
    assert midi_to_hz(69) == pytest.approx(440.0)


def test_voicings_stay_in_range_and_move_little() -> None:
    previous = voice_chord((0, 4, 7), None, 53, 76)
    assert sorted(p % 12 for p in previous) == [0, 4, 7]
    for pcs in [(7, 11, 2), (9, 0, 4), (5, 9, 0), (0, 4, 7)]:
        notes = voice_chord(pcs, previous, 53, 76)
        assert all(53 <= n <= 76 for n in notes)
        assert {n % 12 for n in notes} == set(pcs)
        # smooth voice leading: no voice jumps more than a fourth between neighbouring chords
        assert max(abs(a - b) for a, b in zip(sorted(notes), sorted(previous), strict=True)) <= 5
        previous = notes


def test_scales_are_spelled_like_a_musician_would() -> None:
    assert scale_names(2, "major") == ("D", "E", "F#", "G", "A", "B", "C#")
    assert scale_names(5, "major") == ("F", "G", "A", "Bb", "C", "D", "E")
    assert scale_names(1, "minor") == ("C#", "D#", "E", "F#", "G#", "A", "B")
    assert key_name(1, "major") == "Db major" and key_name(8, "minor") == "G# minor"
    for tonic in range(12):
        for mode in ("major", "minor", "dorian", "lydian", "mixolydian"):
            names = scale_names(tonic, mode)
            assert [n[0] for n in names] == [
                ("CDEFGAB" * 2)["CDEFGAB".index(names[0][0]) + i] for i in range(7)
            ]
            assert parse_key(key_name(tonic, mode)) == (tonic, mode)
            assert not any("##" in n or "bb" in n for n in names)
