"""Percussion: each sound synthesised once per render (seeded noise), then placed at its hits."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

from refvid.audio.plan import SAMPLE_RATE

SR = SAMPLE_RATE


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def _band(noise: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    if lo and hi:
        sos = butter(2, [lo, hi], btype="bandpass", fs=SR, output="sos")
    elif lo:
        sos = butter(2, lo, btype="highpass", fs=SR, output="sos")
    else:
        sos = butter(2, hi, btype="lowpass", fs=SR, output="sos")
    return np.asarray(sosfilt(sos, noise))


def _sweep(t: np.ndarray, f_hi: float, f_lo: float, tau: float) -> np.ndarray:
    """Sine whose pitch falls exponentially from f_hi to f_lo: the body of a kick or tom."""
    freq = f_lo + (f_hi - f_lo) * np.exp(-t / tau)
    return np.sin(2 * np.pi * np.cumsum(freq) / SR)


def _fade_edges(x: np.ndarray) -> np.ndarray:
    """Zero the first and last samples smoothly so no hit starts or ends with a click."""
    n = min(48, len(x) // 4)
    x[:n] *= np.linspace(0.0, 1.0, n)
    x[-n * 4 :] *= np.linspace(1.0, 0.0, n * 4)
    return x


def _tuned(scale: tuple[int, ...], near_midi: float) -> float:
    """Frequency of the key's scale tone nearest ``near_midi``: drums tuned to the song."""
    candidates = [m for m in range(int(near_midi) - 7, int(near_midi) + 8) if m % 12 in scale]
    best = min(candidates, key=lambda m: (abs(m - near_midi), m))
    return float(440.0 * 2.0 ** ((best - 69) / 12.0))


def make_kit(rng: np.random.Generator, scale: tuple[int, ...]) -> dict[str, np.ndarray]:
    """All percussion sounds, mono, peak around 1; pitched drums land on notes of ``scale``."""
    kit: dict[str, np.ndarray] = {}
    kick, taiko, tom, snare = (
        _tuned(scale, 31),
        _tuned(scale, 36),
        _tuned(scale, 46),
        _tuned(scale, 54),
    )
    t = _t(0.45)
    click = _band(rng.standard_normal(len(t)), 1500, 9000) * np.exp(-t / 0.004)
    kit["kick"] = _sweep(t, kick * 3, kick, 0.045) * np.exp(-t / 0.22) + 0.25 * click
    t = _t(0.3)
    body = 0.6 * np.sin(2 * np.pi * snare * t) + 0.3 * np.sin(2 * np.pi * snare * 1.5 * t)
    kit["snare"] = (
        body * np.exp(-t / 0.06)
        + _band(rng.standard_normal(len(t)), 1200, 9000) * np.exp(-t / 0.1) * 1.6
    )
    t = _t(0.35)
    bursts = sum(np.exp(-np.maximum(t - d, 0) / 0.008) * (t >= d) for d in (0.0, 0.011, 0.022))
    tail = np.exp(-np.maximum(t - 0.033, 0) / 0.09) * (t >= 0.033)
    kit["clap"] = _band(rng.standard_normal(len(t)), 900, 3500) * (0.7 * bursts + tail) * 1.8
    t = _t(0.12)
    kit["hat"] = _band(rng.standard_normal(len(t)), 7000, None) * np.exp(-t / 0.025) * 1.4
    t = _t(0.5)
    kit["open_hat"] = _band(rng.standard_normal(len(t)), 6500, None) * np.exp(-t / 0.18)
    t = _t(0.12)
    shake = (1 - np.exp(-t / 0.012)) * np.exp(-t / 0.035)
    kit["shaker"] = _band(rng.standard_normal(len(t)), 4500, 11000) * shake * 2.5
    t = _t(0.06)
    kit["rim"] = (
        np.sin(2 * np.pi * 1700 * t) * 0.5 + _band(rng.standard_normal(len(t)), 2000, 6000)
    ) * np.exp(-t / 0.012)
    t = _t(0.9)
    thump = _band(rng.standard_normal(len(t)), None, 400) * np.exp(-t / 0.05)
    kit["taiko"] = _sweep(t, taiko * 1.9, taiko, 0.06) * np.exp(-t / 0.35) + 1.5 * thump
    t = _t(0.5)
    kit["tom"] = _sweep(t, tom * 1.6, tom, 0.08) * np.exp(-t / 0.18)
    t = _t(2.0)
    kit["crash"] = (
        (
            _band(rng.standard_normal(len(t)), 3500, None)
            + 0.4 * _band(rng.standard_normal(len(t)), 600, 3000)
        )
        * np.exp(-t / 0.55)
        * 0.8
    )
    for name, sound in kit.items():
        kit[name] = _fade_edges(sound / np.max(np.abs(sound)))
    return kit


def riser(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Noise swelling into a cut: the 'whoosh' of a trailer edit."""
    t = _t(seconds)
    x = _band(rng.standard_normal(len(t)), 1500, 9000)
    x *= (t / seconds) ** 2.5
    x[-24:] *= np.linspace(1.0, 0.0, 24)
    return x / max(np.max(np.abs(x)), 1e-9)
