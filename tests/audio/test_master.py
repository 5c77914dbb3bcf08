from __future__ import annotations

import numpy as np
import pytest

from refvid.audio.master import CEILING_DBTP, TARGET_LUFS, apply_fades, limit, master, true_peak_db
from refvid.audio.plan import SAMPLE_RATE

from .measure import integrated_lufs, true_peak_dbtp


def _loud_beat(seconds: float = 5.0) -> np.ndarray:
    """A harsh test signal: a tone with hard transients every half second, too hot to pass."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 3520 * t + 1.0)
    hits = 1.5 * np.exp(-((t % 0.5) / 0.01)) * np.sin(2 * np.pi * 60 * t)
    x = tone + hits
    return np.stack([x, 0.8 * x], axis=1)


def test_master_hits_loudness_and_true_peak() -> None:
    out = master(_loud_beat(), 0.25, 1.0)
    assert out.dtype == np.float32 and out.shape == (5 * SAMPLE_RATE, 2)
    assert integrated_lufs(out) == pytest.approx(TARGET_LUFS, abs=0.5)
    assert true_peak_dbtp(out) <= -1.0
    assert np.max(np.abs(out)) < 1.0


def test_quiet_input_is_raised_to_target() -> None:
    out = master(_loud_beat() * 0.01, 0.25, 1.0)
    assert integrated_lufs(out) == pytest.approx(TARGET_LUFS, abs=0.5)
    assert true_peak_dbtp(out) <= -1.0


def test_fades_start_and_end_at_silence() -> None:
    x = np.ones((48000, 2))
    y = apply_fades(x, 0.1, 0.5)
    assert y[0, 0] == 0.0 and y[-1, 0] == pytest.approx(0.0, abs=1e-12)
    assert y[20000, 0] == 1.0  # untouched between the fades
    assert np.all(np.diff(y[:4800, 0]) >= 0) and np.all(np.diff(y[-24000:, 0]) <= 0)


def test_limiter_holds_the_ceiling_and_leaves_quiet_parts_alone() -> None:
    x = _loud_beat() * 2.0
    y = limit(x, CEILING_DBTP)
    assert true_peak_db(y) <= CEILING_DBTP + 0.3
    quiet = np.full((4800, 2), 0.1)
    assert np.array_equal(limit(quiet, CEILING_DBTP), quiet)


def test_true_peak_sees_between_samples() -> None:
    # a quarter-rate sine sampled at 45 degrees: sample peak 0.707, true peak 1.0
    n = np.arange(48000)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert np.max(np.abs(x)) == pytest.approx(0.7071, abs=1e-3)
    assert true_peak_db(x) == pytest.approx(0.0, abs=0.2)


def test_already_at_target_but_too_peaky_is_still_limited_not_turned_down() -> None:
    # loudness right on target, true peak over the ceiling: the limiter must act, and the
    # loudness must stay on target (a plain trim to the ceiling would leave it ~1 dB short)
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    clicks = np.exp(-((t % 0.5) / 0.003)) * np.sin(2 * np.pi * 900 * t)  # sparse, sharp peaks
    x = np.stack([0.05 * np.sin(2 * np.pi * 330 * t) + clicks] * 2, axis=1)
    x = x * 10 ** ((TARGET_LUFS - integrated_lufs(x)) / 20)
    assert true_peak_dbtp(x) > CEILING_DBTP + 0.5
    out = master(x, 0.0, 0.0)
    assert integrated_lufs(out) == pytest.approx(TARGET_LUFS, abs=0.2)
    assert true_peak_dbtp(out) <= -1.0


def test_short_and_silent_input() -> None:
    short = master(_loud_beat(0.2) * 3, 0.05, 0.05)
    assert short.shape == (9600, 2) and true_peak_db(short) <= CEILING_DBTP + 0.01
    silent = master(np.zeros((48000, 2)), 0.1, 0.1)
    assert not np.any(silent)


def test_true_peak_agrees_with_an_independent_oversampler() -> None:
    # the fast path only oversamples near the peaks; scipy's polyphase filter checks it
    rng = np.random.default_rng(5)
    for scale in (0.05, 0.3, 1.0):
        x = np.cumsum(rng.standard_normal((48000, 2)), axis=0)
        x = (x - x.mean(axis=0)) / np.abs(x).max() * scale + 0.02 * rng.standard_normal((48000, 2))
        assert true_peak_db(x) == pytest.approx(true_peak_dbtp(x), abs=0.2)
