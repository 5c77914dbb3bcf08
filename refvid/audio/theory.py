"""Just enough music theory: scales in a mode, diatonic chords, roman numerals, voicings."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

# Semitone steps above the tonic for each mode the moods use.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
}

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


_LETTERS = "CDEFGAB"
_LETTER_PC = (0, 2, 4, 5, 7, 9, 11)
_ACCIDENTALS = {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}


def _spell(pc: int, letter: int) -> tuple[str, int]:
    """``pc`` written on ``letter`` (0 = C): its name and how many accidentals it needs."""
    shift = (pc - _LETTER_PC[letter] + 6) % 12 - 6
    if abs(shift) > 2:
        return "?", 99
    return _LETTERS[letter] + _ACCIDENTALS[shift], abs(shift)


def scale_names(tonic: int, mode: str) -> tuple[str, ...]:
    """The scale spelled as a musician would: one letter per degree, fewest accidentals
    (D major is D E F# G A B C#, never Gb; ties go to sharps)."""
    pcs = scale_pitch_classes(tonic, mode)
    best: tuple[int, int, tuple[str, ...]] | None = None
    for start in range(7):
        spelled = [_spell(pc, (start + i) % 7) for i, pc in enumerate(pcs)]
        cost = sum(n for _, n in spelled) + sum(50 for _, n in spelled if n > 1)
        flats = sum("b" in name for name, _ in spelled)
        candidate = (cost, flats, tuple(name for name, _ in spelled))
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    assert best is not None
    return best[2]


def key_name(tonic: int, mode: str) -> str:
    """``"A minor"`` for tonic 9 in minor; ``"F# major"``, ``"Eb dorian"``."""
    return f"{scale_names(tonic, mode)[0]} {mode}"


def parse_key(name: str) -> tuple[int, str]:
    """Inverse of :func:`key_name`; raises ``ValueError`` naming what is wrong."""
    parts = name.split()
    if len(parts) == 2 and parts[1] in MODES and parts[0][:1] in _LETTERS:
        note, accidental = parts[0][0], parts[0][1:]
        shifts = {v: k for k, v in _ACCIDENTALS.items()}
        if accidental in shifts:
            return (_LETTER_PC[_LETTERS.index(note)] + shifts[accidental]) % 12, parts[1]
    raise ValueError(
        f"key must look like 'A minor' or 'F# dorian' (modes: {', '.join(sorted(MODES))}), got {name!r}"
    )


def scale_pitch_classes(tonic: int, mode: str) -> tuple[int, ...]:
    """The seven pitch classes (0 = C) of the key, tonic first."""
    return tuple((tonic + step) % 12 for step in MODES[mode])


def degree_to_midi(tonic: int, mode: str, degree: int, octave: int) -> int:
    """MIDI note of scale ``degree`` (0-based, may exceed 6 or go negative) in ``octave``."""
    steps = MODES[mode]
    octaves, index = divmod(degree, 7)
    return 12 * (octave + 1 + octaves) + tonic + steps[index]


def chord_degrees(root: int, size: int = 3) -> tuple[int, ...]:
    """Scale degrees stacked in thirds on ``root``: a triad (3) or a seventh chord (4)."""
    return tuple(root + 2 * i for i in range(size))


def chord_pitch_classes(tonic: int, mode: str, root: int, size: int = 3) -> tuple[int, ...]:
    """Pitch classes of the diatonic chord on scale degree ``root``."""
    return tuple(degree_to_midi(tonic, mode, d, 0) % 12 for d in chord_degrees(root, size))


def roman(mode: str, root: int) -> str:
    """Roman numeral of the diatonic triad on ``root``: upper case major, lower minor, ° diminished."""
    steps = MODES[mode]

    def step(d: int) -> int:
        o, i = divmod(d, 7)
        return steps[i] + 12 * o

    third = step(root + 2) - step(root)
    fifth = step(root + 4) - step(root)
    numeral = _ROMAN[root % 7]
    if third == 4:
        return numeral
    return numeral.lower() + ("°" if fifth == 6 else "")


def voice_chord(
    pitch_classes: Sequence[int], previous: Sequence[int] | None, low: int, high: int
) -> list[int]:
    """Place the chord's pitch classes in [low, high] as close as possible to ``previous``.

    Smooth voice leading is what makes a pad sound played rather than stamped out.
    """
    options = [
        [pc + 12 * o for o in range(11) if low <= pc + 12 * o <= high] for pc in pitch_classes
    ]
    best: list[int] | None = None
    best_cost = float("inf")
    for combo in product(*options):
        notes = sorted(combo)
        if len(set(notes)) < len(notes) or notes[-1] - notes[0] > 14:
            continue
        if previous:
            prev = sorted(previous)
            cost = float(sum(abs(a - b) for a, b in zip(notes, prev, strict=False)))
        else:
            centre = (low + high) / 2
            cost = abs(sum(notes) / len(notes) - centre)
        if cost < best_cost:
            best, best_cost = notes, cost
    if best is None:  # range too narrow for a close voicing: stack from the bottom
        best = sorted(low + (pc - low) % 12 for pc in pitch_classes)
    return best


def midi_to_hz(note: float) -> float:
    """Equal temperament, A4 = 440 Hz."""
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)
