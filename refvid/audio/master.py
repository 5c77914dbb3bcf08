"""Mastering: fades, loudness to −16 LUFS (BS.1770 via pyloudnorm), true-peak limiting."""

from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import butter, firwin, lfilter, sosfilt

from refvid.audio.plan import SAMPLE_RATE

TARGET_LUFS = -16.0
# The limiter aims below the −1 dBTP promise: AAC's quantisation and filtering can raise
# inter-sample peaks by a few tenths of a dB once decoded.
CEILING_DBTP = -2.0
_LOOKAHEAD = 72  # samples (1.5 ms) the gain starts falling before a peak
_RELEASE = 0.08  # seconds for the gain to recover after a peak


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


# The 48-tap (12 per phase) 4× interpolator that BS.1770-4 Annex 2 describes, as a Kaiser FIR.
_FIR = firwin(48, 0.25, window=("kaiser", 6.0)) * 4
_POLYPHASE = tuple(_FIR[k::4] for k in range(4))
_DELAY = 6  # each 12-tap phase delays by about six input samples


def _oversampled_peaks(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest |value| of its four 4×-oversampled points, across channels."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    peaks = np.zeros(len(x))
    for c in range(x.shape[1]):
        for phase in _POLYPHASE:
            # each phase of the interpolator is a short FIR: four of them = the 4× signal
            y = np.convolve(x[:, c], phase)[_DELAY : _DELAY + len(x)]
            np.maximum(peaks, np.abs(y), out=peaks)
    return peaks


def true_peak_db(x: np.ndarray) -> float:
    """Peak of the 4× oversampled signal in dBTP (the BS.1770 true-peak estimate)."""
    peak = max(float(np.max(_oversampled_peaks(x))), float(np.max(np.abs(x))))
    return 20.0 * np.log10(max(peak, 1e-12))


def loudness(x: np.ndarray) -> float:
    """Integrated loudness (LUFS) of a stereo signal at 48 kHz."""
    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(np.asarray(x, dtype=np.float64)))


def apply_fades(x: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    """Raised-cosine fade-in from silence; fade-out reaching exactly zero on the last sample."""
    n = len(x)
    gain = np.ones(n)
    k = min(n, int(fade_in * SAMPLE_RATE))
    if k > 1:
        gain[:k] = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
    k = min(n, int(fade_out * SAMPLE_RATE))
    if k > 1:
        gain[n - k :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, k + 1) / k)
    return x * gain[:, None]


def limit(x: np.ndarray, ceiling_db: float) -> np.ndarray:
    """Look-ahead peak limiter on the 4× oversampled peaks, linked across channels."""
    ceiling = db_to_gain(ceiling_db)
    peaks = np.maximum(_oversampled_peaks(x), np.maximum(np.abs(x[:, 0]), np.abs(x[:, 1])))
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    # hold the lowest gain across the look-ahead window, then smooth it with a box of the
    # same width: the smoothed gain never exceeds what any sample in reach needs
    held = minimum_filter1d(need, size=2 * _LOOKAHEAD + 1, mode="nearest")
    smooth = uniform_filter1d(held, size=_LOOKAHEAD, mode="nearest")
    smooth = np.minimum(smooth, held)
    a = np.exp(-1.0 / (_RELEASE * SAMPLE_RATE))
    slow = lfilter([1 - a], [1, -a], smooth, zi=[smooth[0] * a])[0]
    gain = np.minimum(smooth, slow)
    return x * gain[:, None]


def master(mix: np.ndarray, fade_in: float, fade_out: float) -> np.ndarray:
    """Fades, −16 LUFS integrated, true peak at or below the ceiling; returns float32 in [-1, 1]."""
    sos = butter(2, 28.0, btype="highpass", fs=SAMPLE_RATE, output="sos")
    x = np.asarray(sosfilt(sos, mix, axis=0))
    x = apply_fades(x, fade_in, fade_out)
    if len(x) >= int(0.4 * SAMPLE_RATE):  # BS.1770 gates on 400 ms blocks: shorter has no loudness
        # gain to the target, limit, and again: limiting lowers the loudness a little each time
        for attempt in range(4):
            measured = loudness(x)
            if not np.isfinite(measured) or (attempt and abs(measured - TARGET_LUFS) < 0.1):
                break
            x = limit(x * db_to_gain(TARGET_LUFS - measured), CEILING_DBTP)
    else:
        x = limit(x, CEILING_DBTP)
    peak = true_peak_db(x)
    if peak > CEILING_DBTP:  # the limiter's smoothing can leave a hair over; trim it exactly
        x = x * db_to_gain(CEILING_DBTP - peak - 0.01)
    return np.clip(x, -1.0, 1.0).astype(np.float32)
