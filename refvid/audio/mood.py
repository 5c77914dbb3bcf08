"""Prompt → mood, and what each mood means musically (tempo, mode, instruments, energy)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MoodProfile:
    """The musical choices a mood implies; the composer draws within these ranges."""

    name: str
    words: frozenset[str]
    tempo: tuple[int, int]  # bpm, inclusive range
    modes: tuple[str, ...]  # drawn from, first is most likely
    chords: str  # instrument of the harmony layer
    bass: str
    leads: tuple[str, ...]  # melody instrument, drawn from (first most likely)
    arps: tuple[str | None, ...]  # arpeggio instrument, drawn from; None = no arpeggio layer
    drums: str | None  # percussion style, None = no percussion
    energy: float  # 0..1: note density, brightness, drum level
    reverb: float  # wet level of the reverb send
    swing: float  # 0 = straight eighths; 0.1-0.2 = lilting


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PROFILES = (
    MoodProfile(
        name="upbeat",
        words=_words(
            "sunny sun sunshine sunlit summer happy happiness joy joyful joyous upbeat bright cheerful "
            "energetic energy celebrate celebration party festive lively vibrant uplifting exciting "
            "dance dancing golden warm beach fun"
        ),
        tempo=(112, 126),
        modes=("major", "mixolydian"),
        chords="pluck",
        bass="synth_bass",
        leads=("bell", "pluck", "marimba"),
        arps=("pluck",),
        drums="pop",
        energy=0.85,
        reverb=0.16,
        swing=0.0,
    ),
    MoodProfile(
        name="calm",
        words=_words(
            "calm calming soft softly gentle gently thoughtful peaceful serene quiet slow slowly relaxing "
            "relaxed dreamy tender meditative still tranquil wistful nostalgic morning mellow cozy "
            "cosy lazy breeze floating"
        ),
        tempo=(68, 82),
        modes=("major", "lydian"),
        chords="pad",
        bass="sub",
        leads=("flute", "epiano", "glass"),
        arps=("epiano", "glass"),
        drums=None,
        energy=0.35,
        reverb=0.32,
        swing=0.0,
    ),
    MoodProfile(
        name="dramatic",
        words=_words(
            "dramatic drama epic tense tension intense action battle powerful heroic hero storm stormy "
            "chase danger suspense thriller war fight explosion rising cinematic grand majestic fast "
            "urgent fierce"
        ),
        tempo=(88, 104),
        modes=("minor",),
        chords="strings",
        bass="ostinato",
        leads=("brass", "strings"),
        arps=(None,),
        drums="cinematic",
        energy=0.9,
        reverb=0.28,
        swing=0.0,
    ),
    MoodProfile(
        name="mysterious",
        words=_words(
            "mysterious mystery night nighttime midnight dark darkness shadow shadows moon moonlight "
            "moonlit fog foggy misty mist eerie noir secret hidden haunted ghost strange cold cool "
            "neon rain rainy"
        ),
        tempo=(72, 88),
        modes=("minor", "dorian"),
        chords="pad",
        bass="sub",
        leads=("bell", "flute", "glass"),
        arps=("glass", "epiano"),
        drums="trip",
        energy=0.5,
        reverb=0.36,
        swing=0.08,
    ),
    MoodProfile(
        name="playful",
        words=_words(
            "playful play playing quirky cute bouncy bounce silly kids kid child children cartoon toy "
            "toys whimsical funny cheeky puppy kitten cat dog game games curious"
        ),
        tempo=(118, 134),
        modes=("major",),
        chords="marimba",
        bass="pizz",
        leads=("marimba", "bell", "pizz"),
        arps=(None,),
        drums="light",
        energy=0.7,
        reverb=0.14,
        swing=0.16,
    ),
)

MOODS: dict[str, MoodProfile] = {p.name: p for p in _PROFILES}


def detect_mood(prompt: str, rng: np.random.Generator) -> tuple[str, list[str]]:
    """The mood whose words the prompt uses most (earliest wins a tie), else a seeded pick.

    Returns the mood and the prompt words that chose it (empty when the seed chose).
    """
    tokens = re.findall(r"[a-z]+", prompt.lower())
    best: tuple[int, int] | None = None
    chosen = ""
    matched: list[str] = []
    for profile in _PROFILES:
        hits = [(i, t) for i, t in enumerate(tokens) if t in profile.words]
        if not hits:
            continue
        rank = (len(hits), -hits[0][0])
        if best is None or rank > best:
            best, chosen = rank, profile.name
            matched = sorted({t for _, t in hits})
    if best is not None:
        return chosen, matched
    names = sorted(MOODS)
    return names[int(rng.integers(len(names)))], []
