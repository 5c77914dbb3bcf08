"""The music plan: every decision about the piece, as plain data drawn from the prompt and seed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from refvid.audio.mood import MOODS, detect_mood
from refvid.audio.theory import key_name, parse_key, roman, scale_names

SAMPLE_RATE = 48000
BEATS_PER_BAR = 4
FADE_IN = 0.25  # seconds: short enough that the first downbeat is heard, long enough for no click
MAX_FADE_OUT = 1.8
MAX_DURATION = 600.0  # seconds; the product makes 5 or 10, this only bounds memory

# Diatonic progressions (0-based scale degrees), one bar per chord, by mode.
PROGRESSIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 5, 4), (3, 0, 4, 5), (0, 2, 3, 4)),
    "mixolydian": ((0, 6, 3, 0), (0, 3, 6, 3), (0, 4, 6, 3)),
    "lydian": ((0, 1, 0, 1), (0, 1, 5, 4), (0, 1, 2, 1)),
    "minor": ((0, 5, 2, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 4, 5, 3), (0, 5, 6, 0), (0, 6, 5, 6)),
    "dorian": ((0, 3, 0, 3), (0, 3, 6, 0), (0, 1, 3, 0)),
}


@dataclass(frozen=True)
class Section:
    """One phrase of the piece, lined up with one shot (boundaries snapped to the beat)."""

    start_beat: int
    start: float  # seconds, = start_beat * beat length
    end: float  # seconds; the last section ends at the video's end
    roots: tuple[int, ...]  # scale degrees, one chord per bar, cycled
    progression: tuple[str, ...]  # the same chords as roman numerals, for people
    intensity: int  # 1 = lighter (intro), 2 = full


@dataclass(frozen=True)
class MusicPlan:
    """Everything ``render_music`` needs; JSON-able through ``to_dict``/``from_dict``."""

    seed: int
    duration: float
    mood: str
    mood_words: tuple[str, ...]
    tempo_bpm: int
    key: str
    scale: tuple[str, ...]
    chords: str
    bass: str
    lead: str
    arp: str | None
    drums: str | None
    energy: float
    reverb: float
    swing: float
    fade_in: float
    fade_out: float
    sections: tuple[Section, ...] = field(default_factory=tuple)

    @property
    def beat(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.tempo_bpm

    @property
    def tonic_mode(self) -> tuple[int, str]:
        return parse_key(self.key)

    @property
    def sample_count(self) -> int:
        return round(self.duration * SAMPLE_RATE)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data, as ``refvid plan`` prints it."""
        d = asdict(self)
        d["mood_words"] = list(self.mood_words)
        d["scale"] = list(self.scale)
        d["sections"] = [
            {**asdict(s), "roots": list(s.roots), "progression": list(s.progression)}
            for s in self.sections
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MusicPlan:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming a bad field."""
        if d.get("mood") not in MOODS:
            raise ValueError(f"music.mood must be one of {sorted(MOODS)}, got {d.get('mood')!r}")
        parse_key(str(d.get("key")))
        try:
            sections = tuple(
                Section(
                    start_beat=int(s["start_beat"]),
                    start=float(s["start"]),
                    end=float(s["end"]),
                    roots=tuple(int(r) for r in s["roots"]),
                    progression=tuple(str(p) for p in s["progression"]),
                    intensity=int(s["intensity"]),
                )
                for s in d["sections"]
            )
            return cls(
                seed=int(d["seed"]),
                duration=float(d["duration"]),
                mood=str(d["mood"]),
                mood_words=tuple(str(w) for w in d["mood_words"]),
                tempo_bpm=int(d["tempo_bpm"]),
                key=str(d["key"]),
                scale=tuple(str(n) for n in d["scale"]),
                chords=str(d["chords"]),
                bass=str(d["bass"]),
                lead=str(d["lead"]),
                arp=None if d["arp"] is None else str(d["arp"]),
                drums=None if d["drums"] is None else str(d["drums"]),
                energy=float(d["energy"]),
                reverb=float(d["reverb"]),
                swing=float(d["swing"]),
                fade_in=float(d["fade_in"]),
                fade_out=float(d["fade_out"]),
                sections=sections,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"music plan is missing or has a bad field: {exc}") from exc


def plan_music(prompt: str, seed: int, duration: float, cut_times: Sequence[float]) -> MusicPlan:
    """Choose mood, tempo, key, instruments and one phrase per shot, all from the prompt and seed."""
    if not 0 < duration <= MAX_DURATION:  # also refuses NaN and infinity
        raise ValueError(
            f"music duration must be positive and at most {MAX_DURATION:g} s, got {duration}"
        )
    if seed < 0:
        raise ValueError(f"music seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng([seed, 0x6D75])  # salted: music draws never shift the video's
    mood_name, words = detect_mood(prompt, rng)
    mood = MOODS[mood_name]
    mode = (
        mood.modes[0]
        if len(mood.modes) == 1 or rng.random() < 0.65
        else str(rng.choice(mood.modes[1:]))
    )
    tonic = int(rng.integers(12))
    cuts = sorted(t for t in cut_times if 0 < t < duration)
    tempo = _fit_tempo(mood.tempo, cuts, rng)
    # instruments: the mood's usual lead half the time, else one of its alternatives; an
    # arpeggio never doubles the lead's instrument
    lead = (
        mood.leads[0]
        if len(mood.leads) == 1 or rng.random() < 0.5
        else str(rng.choice(mood.leads[1:]))
    )
    arps = [a for a in mood.arps if a != lead] or [None]
    arp = arps[int(rng.integers(len(arps)))]
    beat = 60.0 / tempo

    starts = [0]
    for t in cuts:
        b = round(t / beat)
        if b > starts[-1] and b * beat < duration - beat:
            starts.append(b)
    bank = PROGRESSIONS[mode]
    sections: list[Section] = []
    previous: int | None = None
    for i, b in enumerate(starts):
        choices = [j for j in range(len(bank)) if j != previous] or [0]
        pick = 0 if i == 0 and rng.random() < 0.5 else int(rng.choice(choices))
        previous = pick
        roots = bank[pick]
        end = starts[i + 1] * beat if i + 1 < len(starts) else duration
        sections.append(
            Section(
                start_beat=b,
                start=round(b * beat, 6),
                end=round(end, 6) if i + 1 < len(starts) else float(duration),
                roots=roots,
                progression=tuple(roman(mode, r) for r in roots),
                intensity=1 if i == 0 and len(starts) > 1 else 2,
            )
        )
    return MusicPlan(
        seed=seed,
        duration=float(duration),
        mood=mood_name,
        mood_words=tuple(words),
        tempo_bpm=tempo,
        key=key_name(tonic, mode),
        scale=scale_names(tonic, mode),
        chords=mood.chords,
        bass=mood.bass,
        lead=lead,
        arp=arp,
        drums=mood.drums,
        energy=mood.energy,
        reverb=mood.reverb,
        swing=mood.swing,
        fade_in=FADE_IN,
        fade_out=round(min(MAX_FADE_OUT, duration * 0.25), 6),
        sections=tuple(sections),
    )


def _fit_tempo(bounds: tuple[int, int], cuts: Sequence[float], rng: np.random.Generator) -> int:
    """A seeded tempo, nudged by a few bpm so that the cuts land close to beats."""
    lo, hi = bounds
    preferred = int(rng.integers(lo, hi + 1))
    if not cuts:
        return preferred

    def misfit(bpm: int) -> float:
        beat = 60.0 / bpm

        def off(t: float, grid: float) -> float:
            return abs(t / grid - round(t / grid)) * grid

        # seconds between each cut and its beat (where the phrase will change), a lesser
        # wish for half-bar boundaries, and a pull toward the seeded pick
        return sum(off(t, beat) + 0.25 * off(t, 2 * beat) for t in cuts) + 0.004 * abs(
            bpm - preferred
        )

    candidates = [b for b in range(preferred - 6, preferred + 7) if lo <= b <= hi]
    return min(candidates, key=misfit)


def beats_total(plan: MusicPlan) -> int:
    """Whole beats needed to cover the video (the last one may run past the end)."""
    return math.ceil(plan.duration / plan.beat) + 1
