"""Plan → notes: chords, bass, arpeggio, melody and percussion hits, in seconds.

Everything random is drawn from generators seeded by the plan's seed and the section
index, so a plan always expands to the same score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from refvid.audio.plan import BEATS_PER_BAR, MusicPlan, Section
from refvid.audio.theory import chord_pitch_classes, degree_to_midi, voice_chord


@dataclass(frozen=True)
class Note:
    start: float  # seconds
    gate: float  # seconds held before release
    midi: float
    velocity: float


@dataclass(frozen=True)
class Hit:
    start: float
    sound: str
    velocity: float


@dataclass
class Score:
    chords: list[Note] = field(default_factory=list)
    bass: list[Note] = field(default_factory=list)
    arp: list[Note] = field(default_factory=list)
    lead: list[Note] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    risers: list[float] = field(default_factory=list)  # times (s) a riser should end at


# Melody rhythms, one bar each, in beats; negative = rest.
RHYTHMS: dict[str, tuple[tuple[float, ...], ...]] = {
    "upbeat": (
        (1, 0.5, 0.5, 1, 1),
        (0.5, 0.5, 1, 0.5, 0.5, 1),
        (1.5, 0.5, 1, 1),
        (-0.5, 0.5, 0.5, 0.5, 2),
    ),
    "calm": ((2, 1, 1), (3, 1), (1.5, 0.5, 2), (-1, 1, 2)),
    "dramatic": ((1, 1, 2), (1.5, 0.5, 2), (2, 1, 1), (-1, 0.5, 0.5, 2)),
    "mysterious": ((2, 2), (-1, 1, 1.5, 0.5), (3, 1), (-2, 1, 1)),
    "playful": (
        (0.5, 0.5, 0.5, 0.5, 1, -1),
        (0.5, -0.5, 0.5, 0.5, 1, 1),
        (1, 0.5, 0.5, 1, -1),
        (0.75, 0.25, 1, 0.5, 0.5, 1),
    ),
}

# Lowest MIDI note the melody's tonic may sit on: bells and marimba sing above the pad,
# flute in its sweet middle register, brass lower and fuller.
LEAD_TONIC_FLOOR = {"upbeat": 65, "calm": 62, "dramatic": 55, "mysterious": 62, "playful": 65}
BASS_FLOOR = 36  # C2: bass roots live in C2..B2


def lowest_at_or_above(pitch_class: int, floor: int) -> int:
    """The lowest MIDI note of ``pitch_class`` that is >= ``floor``."""
    return floor + (pitch_class - floor) % 12


# Percussion bars: sound -> beat positions within the bar, for (intensity 1, intensity 2).
GROOVES: dict[str, dict[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    "pop": {
        "kick": ((0, 1, 2, 3), (0, 1, 2, 3)),
        "clap": ((), (1, 3)),
        "hat": ((0.5, 1.5, 2.5, 3.5), (0.5, 1.5, 2.5, 3.5)),
        "shaker": ((), (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75)),
    },
    "cinematic": {
        "taiko": ((0, 1, 2, 3), (0, 1, 2, 3, 3.5)),
        "tom": ((), (1.5, 2.5, 3.75)),
        "snare": ((), (1, 3)),
    },
    "trip": {
        "kick": ((0, 2.5), (0, 0.75, 2.5)),
        "rim": ((1, 3), (1, 3)),
        "hat": ((0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5), (0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)),
    },
    "light": {
        "kick": ((0, 2), (0, 2)),
        "clap": ((1, 3), (1, 3)),
        "shaker": ((0.5, 1.5, 2.5, 3.5), (0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5)),
    },
}

DRUM_LEVEL = {
    "kick": 1.0,
    "clap": 0.6,
    "snare": 0.7,
    "hat": 0.35,
    "shaker": 0.3,
    "rim": 0.45,
    "taiko": 1.0,
    "tom": 0.6,
    "crash": 0.5,
    "open_hat": 0.3,
}


class _Clock:
    """Beats → seconds, with swing on the off-beats."""

    def __init__(self, plan: MusicPlan) -> None:
        self.beat = plan.beat
        self.swing = plan.swing

    def at(self, b: float) -> float:
        frac = b % 1.0
        # an off-beat eighth moves later by the swing; sixteenths by half as much
        shift = self.swing * (
            0.5 if abs(frac - 0.5) < 1e-9 else 0.25 if abs(frac % 0.5 - 0.25) < 1e-9 else 0.0
        )
        return (b + shift) * self.beat


def _section_at(plan: MusicPlan, b: float) -> tuple[int, Section]:
    index = 0
    for i, s in enumerate(plan.sections):
        if s.start_beat <= b + 1e-9:
            index = i
    return index, plan.sections[index]


Slots = list[tuple[float, float, int]]  # chord slots: start beat, length in beats, root degree


def _root_at(slots: Slots, b: float) -> int:
    """The root of the chord sounding at beat ``b``."""
    root = slots[0][2]
    for start, _, r in slots:
        if start <= b + 1e-9:
            root = r
    return root


def compose(plan: MusicPlan) -> Score:
    """Expand the plan into every note and hit of the piece."""
    tonic, mode = plan.tonic_mode
    clock = _Clock(plan)
    score = Score()
    total = math.ceil(plan.duration / plan.beat)
    # chord slots: every bar of each section, plus a new slot where each section starts
    slots: Slots = []
    for i, s in enumerate(plan.sections):
        end = plan.sections[i + 1].start_beat if i + 1 < len(plan.sections) else total
        # a short shot still hears its progression move: chords change every half bar
        step = BEATS_PER_BAR if end - s.start_beat >= 2 * BEATS_PER_BAR else BEATS_PER_BAR // 2
        for k, bar in enumerate(range(s.start_beat, end, step)):
            slots.append((float(bar), float(min(step, end - bar)), s.roots[k % len(s.roots)]))

    if len(slots) >= 3:
        # end on the tonic chord: the piece resolves as the picture fades (from the last chord
        # that still has a beat to sound), but never over the chord that opens the last shot
        final = max(b for b, _, _ in slots if b * plan.beat < plan.duration - plan.beat)
        final = max(final, plan.sections[-1].start_beat + 0.5)
        slots = [(b, n, 0 if b >= final else root) for b, n, root in slots]
    size = 4 if plan.mood in ("calm", "mysterious") else 3
    previous: list[int] | None = None
    for b, length, root in slots:
        voicing = voice_chord(chord_pitch_classes(tonic, mode, root, size), previous, 53, 76)
        previous = voicing
        _chord_layer(plan, score, clock, b, length, voicing)
        pcs = chord_pitch_classes(tonic, mode, root, 3)
        bass_root = lowest_at_or_above(pcs[0], BASS_FLOOR)
        fifth = (pcs[2] - pcs[0]) % 12  # diatonic: 6 under a diminished chord
        _bass_layer(plan, score, clock, b, length, bass_root, fifth)
        if plan.arp is not None:
            _arp_layer(plan, score, clock, b, length, voicing)
    for i, s in enumerate(plan.sections):
        end = plan.sections[i + 1].start_beat if i + 1 < len(plan.sections) else total
        _melody(plan, score, clock, slots, i, s, end)
    if plan.drums is not None:
        _drums(plan, score, clock, slots)
    _humanise(plan, score)
    if score.lead:
        # the melody's last note comes home to the tonic and rings into the fade
        last = score.lead[-1]
        home = min(
            (last.midi + k for k in range(-6, 7) if (last.midi + k) % 12 == tonic),
            key=abs_from(last.midi),
        )
        score.lead[-1] = Note(
            last.start, max(last.gate, plan.duration - last.start), home, last.velocity
        )
    return score


def _humanise(plan: MusicPlan, score: Score) -> None:
    """Players are never exactly on the grid: a few ms of seeded timing drift on the pitched
    parts, and plucked chords strummed low to high. The kick stays on the grid."""
    rng = np.random.default_rng([plan.seed, 0x68756D])
    strum = 0.006 if plan.chords in ("pluck", "marimba") else 0.0
    by_onset: dict[float, int] = {}
    chords = []
    for n in score.chords:  # voices of one chord share an onset; spread them by pitch order
        k = by_onset.get(n.start, 0)
        by_onset[n.start] = k + 1
        chords.append(replace(n, start=n.start + k * strum))
    score.chords = chords
    for layer, sigma in (("lead", 0.006), ("arp", 0.004), ("bass", 0.002)):
        notes = getattr(score, layer)
        drift = np.clip(rng.normal(0.0, sigma, len(notes)), -2 * sigma, 2 * sigma)
        setattr(
            score,
            layer,
            [replace(n, start=max(0.0, n.start + d)) for n, d in zip(notes, drift, strict=True)],
        )


def abs_from(x: float) -> Callable[[float], float]:
    return lambda m: abs(m - x)


def _chord_layer(
    plan: MusicPlan, score: Score, clock: _Clock, b: float, length: float, voicing: list[int]
) -> None:
    if plan.chords in ("pad", "strings"):
        for m in voicing:
            score.chords.append(Note(clock.at(b), length * plan.beat * 0.98, m, 0.5))
        return
    # plucked harmony plays a rhythm: syncopated for pop, off-beat stabs for marimba
    positions = (0, 0.75, 1.5, 2.5, 3, 3.5) if plan.chords == "pluck" else (0.5, 1.5, 2.5, 3.5)
    for p in positions:
        if p < length:
            for m in voicing:
                score.chords.append(Note(clock.at(b + p), 0.3 * plan.beat, m, 0.42 if p else 0.5))


def _bass_layer(
    plan: MusicPlan, score: Score, clock: _Clock, b: float, length: float, root: int, fifth: int
) -> None:
    pattern: tuple[tuple[float, int, float], ...]  # beat, semitones above root, gate in beats
    if plan.bass == "synth_bass":
        pattern = (
            (0, 0, 0.4),
            (0.5, 0, 0.4),
            (1, 0, 0.4),
            (1.5, 12, 0.3),
            (2, 0, 0.4),
            (2.5, 0, 0.4),
            (3, 0, 0.4),
            (3.5, 12, 0.3),
        )
    elif plan.bass == "ostinato":
        pattern = tuple((i * 0.5, 12 if i in (3, 7) else 0, 0.45) for i in range(8))
    elif plan.bass == "pizz":
        pattern = ((0, 0, 0.3), (1, fifth, 0.3), (2, 0, 0.3), (3, fifth, 0.3))
    else:  # sustained sub: the root, moving to the fifth for the bar's last beat
        pattern = ((0, 0, 2.9), (3, fifth, 0.95))
    for p, offset, gate in pattern:
        if p < length:
            g = min(gate, length - p) * plan.beat
            # accents on the beat, softer off-beats: the pulse should be felt, not just counted
            velocity = 0.95 if p == 0 else 0.8 if p % 1 == 0 else 0.6
            score.bass.append(Note(clock.at(b + p), g, root + offset, velocity))


def _arp_layer(
    plan: MusicPlan, score: Score, clock: _Clock, b: float, length: float, voicing: list[int]
) -> None:
    _, section = _section_at(plan, b)
    if section.intensity < 2 and plan.arp == "pluck":
        return
    tones = [*sorted(voicing), min(voicing) + 12]
    order = list(range(len(tones))) + list(range(len(tones) - 2, 0, -1))  # up then down
    step = 0.5 if plan.arp == "pluck" else 1.0  # calm and night arpeggios move in quarters
    base = 12 if plan.arp in ("pluck", "glass") else 0
    gate = {"pluck": 0.35, "epiano": 1.2, "glass": 1.5}.get(plan.arp or "", 0.5)
    level = {"pluck": 0.32, "epiano": 0.4, "glass": 0.3}.get(plan.arp or "", 0.3)
    k = 0
    p = 0.0
    while p < length - 1e-9:
        m = tones[order[k % len(order)]] + base
        score.arp.append(
            Note(clock.at(b + p), gate * plan.beat, m, level * (1.0 if p % 2 == 0 else 0.8))
        )
        k += 1
        p += step


def _melody(
    plan: MusicPlan,
    score: Score,
    clock: _Clock,
    slots: Slots,
    index: int,
    section: Section,
    end: int,
) -> None:
    """A two-bar rhythmic motif and its answer, its pitches following an arch over the shot.

    Strong beats and long notes land on chord tones near the arch; the notes between step
    through the scale toward the next target, and no pitch is struck three times running.
    """
    tonic, mode = plan.tonic_mode
    rng = np.random.default_rng([plan.seed, 0x6D656C, index])
    cells = RHYTHMS[plan.mood]
    motif = [cells[int(rng.integers(len(cells)))] for _ in range(2)]
    octave = lowest_at_or_above(tonic, LEAD_TONIC_FLOOR[plan.mood]) // 12 - 1
    lo, hi = -2, 8  # melody range in scale degrees around that tonic
    start_degree = int(rng.choice((0, 2, 4)))
    peak = start_degree + int(rng.integers(2, 6))
    peak_at = float(rng.uniform(0.4, 0.75))  # where in the shot the line is highest
    span = max(end - section.start_beat, 1)
    bars = math.ceil(span / BEATS_PER_BAR)
    start_bar = 1 if section.intensity == 1 and bars >= 3 else 0
    staccato = 0.55 if plan.mood == "playful" else 0.92
    degree = start_degree
    history: list[int] = []
    for bar in range(start_bar, bars):
        b0 = section.start_beat + bar * BEATS_PER_BAR
        pos = 0.0
        for dur in motif[bar % 2]:
            b = b0 + pos
            pos += abs(dur)
            if dur < 0 or b >= end:
                continue
            f = (b - section.start_beat) / span
            rise = f / peak_at if f < peak_at else (1 - f) / (1 - peak_at)
            target = start_degree + (peak - start_degree) * rise
            root = _root_at(slots, b)
            strong = (b - section.start_beat) % 2 == 0
            if strong or dur >= 2:  # strong beats and long notes land on chord tones
                chord = [d for d in range(lo, hi + 1) if (d - root) % 7 in (0, 2, 4)]
                near = sorted(chord, key=lambda d: (abs(d - target), d))
                degree = near[0] if rng.random() < 0.7 else near[1]
            else:
                toward = (
                    1 if target > degree else -1 if target < degree else int(rng.choice((-1, 1)))
                )
                degree += toward * int(rng.choice((1, 1, 2)))
            if len(history) >= 2 and history[-1] == history[-2] == degree:
                degree += 1 if degree < target else -1
            degree = int(np.clip(degree, lo, hi))
            history.append(degree)
            last = bar == bars - 1 and pos >= BEATS_PER_BAR - 1e-9
            length = min(abs(dur), end - b) if not last else min(abs(dur) + 1, end - b + 1)
            velocity = (0.85 if strong else 0.7) * (1.0 + 0.1 * (rng.random() - 0.5))
            midi = degree_to_midi(tonic, mode, degree, octave)
            score.lead.append(Note(clock.at(b), length * plan.beat * staccato, midi, velocity))


def _drums(plan: MusicPlan, score: Score, clock: _Clock, slots: Slots) -> None:
    """The mood's groove, bar by bar from each section's start, plus a crash and fill at each cut."""
    rng = np.random.default_rng([plan.seed, 0x64726D])
    groove = GROOVES[plan.drums or ""]
    for b, length, _ in slots:
        _, s = _section_at(plan, b)
        for sound, (light, full) in groove.items():
            for p in full if s.intensity >= 2 else light:
                if p >= length:
                    continue
                v = DRUM_LEVEL[sound] * (1.0 + 0.12 * (rng.random() - 0.5))
                if p % 1:
                    v *= 0.75  # off-beats softer: the groove breathes and the pulse stays clear
                elif p % 2:
                    v *= 0.85
                score.hits.append(Hit(clock.at(b + p), sound, v))
    for s in plan.sections[1:]:
        score.hits.append(Hit(clock.at(s.start_beat), "crash", DRUM_LEVEL["crash"]))
        if plan.drums == "cinematic":
            score.risers.append(clock.at(s.start_beat))
        elif plan.drums in ("pop", "light"):
            # a fill on the beat before the cut: four sixteenths, louder each time
            for k in range(4):
                score.hits.append(
                    Hit(clock.at(s.start_beat - 1 + k * 0.25), "snare", 0.3 + 0.12 * k)
                )
