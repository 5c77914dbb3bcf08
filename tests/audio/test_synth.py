from __future__ import annotations

import numpy as np
import pytest

from refvid.audio.plan import SAMPLE_RATE
from refvid.audio.synth import PARTIAL_LIMIT, VOICES, adsr, harmonics_for, render_note, wavetable


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE), mag


@pytest.mark.parametrize("name", sorted(VOICES))
def test_no_voice_aliases_even_on_a_high_note(name: str) -> None:
    # A naive saw at 3.3 kHz folds partials back below Nyquist at inharmonic frequencies;
    # a band-limited one has energy only at multiples of f0.
    midi = 103.0  # G7, ~3136 Hz
    x = render_note(VOICES[name], midi, 0.5, 1.0, 0.0)
    freqs, mag = _spectrum(x[: SAMPLE_RATE // 2])
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    assert mag[freqs > PARTIAL_LIMIT + 1500].max() < 1e-3 * mag.max()
    if VOICES[name].kind == "table" and not VOICES[name].vibrato:
        ratio = freqs / f0
        off = np.abs(ratio - np.round(ratio)) > 0.15  # bins far from any harmonic
        assert mag[off & (freqs > 100)].max() < 1e-2 * mag.max()


def test_wavetable_is_band_limited_and_normalised() -> None:
    table = wavetable("saw", 10)
    assert len(table) == 2049 and table[0] == table[-1]
    assert np.max(np.abs(table)) == pytest.approx(1.0)
    spectrum = np.abs(np.fft.rfft(table[:-1]))
    assert spectrum[11:].max() < 1e-9 * spectrum[1]
    assert spectrum[10] > 0.05 * spectrum[1]
    assert harmonics_for(1000.0) == int(PARTIAL_LIMIT / 1000.0)
    assert harmonics_for(20000.0) == 1


def test_adsr_starts_and_ends_silent_without_steps() -> None:
    env = adsr(24000, 30000, 0.01, 0.1, 0.6, 0.125)
    assert env[0] == 0.0 and env[-1] == 0.0
    assert env.max() <= 1.0 and env[23999] == pytest.approx(0.6, abs=0.02)
    # no click: the largest sample-to-sample change is tiny
    assert np.max(np.abs(np.diff(env))) < 0.01
    # even a note released during its attack ends at zero smoothly
    short = adsr(50, 2000, 0.05, 0.2, 0.6, 0.04)
    assert short[-1] == 0.0 and np.max(np.abs(np.diff(short))) < 0.01


@pytest.mark.parametrize("name", sorted(VOICES))
def test_every_note_begins_and_ends_at_silence(name: str) -> None:
    x = render_note(VOICES[name], 60.0, 0.3, 1.0, 0.25)
    assert abs(x[0]) < 1e-3 and abs(x[-1]) < 1e-6
    assert np.max(np.abs(x)) > 0.1


def test_vibrato_swings_the_pitch_by_its_depth_and_stays_centred() -> None:
    from scipy.signal import hilbert

    from refvid.audio.synth import Voice

    sine_with_vibrato = Voice(
        "table", "saw", 0.01, 0.5, 1.0, 0.2, bright=1e-9, dull=1e-9, vibrato=0.12
    )
    x = render_note(sine_with_vibrato, 69.0, 2.0, 1.0, 0.0)
    settled = x[SAMPLE_RATE : 2 * SAMPLE_RATE]  # after the vibrato has faded in
    freq = np.diff(np.unwrap(np.angle(hilbert(settled)))) * SAMPLE_RATE / (2 * np.pi)
    assert np.mean(freq) == pytest.approx(440.0, abs=0.5)
    assert np.percentile(freq, 98) == pytest.approx(440.0 * 2 ** (0.12 / 12), abs=1.2)
    assert np.percentile(freq, 2) == pytest.approx(440.0 * 2 ** (-0.12 / 12), abs=1.2)
    # and before it fades in, the pitch is steady
    early = x[int(0.05 * SAMPLE_RATE) : int(0.2 * SAMPLE_RATE)]
    early_freq = np.diff(np.unwrap(np.angle(hilbert(early)))) * SAMPLE_RATE / (2 * np.pi)
    assert np.ptp(early_freq[500:-500]) < 0.5
