"""Mastering: fades, loudness to −16 LUFS (BS.1770 via pyloudnorm), true-peak limiting."""

from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d
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


_TAPS = len(_POLYPHASE[0])
# Interpolated points can exceed their neighbourhood's largest sample by at most this factor.
_OVERSHOOT = max(float(np.sum(np.abs(p))) for p in _POLYPHASE)
_KERNEL = np.stack([p[::-1] for p in _POLYPHASE], axis=1)  # (taps, 4): one column per phase


def _oversampled_peaks(x: np.ndarray, floor: float) -> np.ndarray:
    """Per input sample, the largest |value| of its four 4×-oversampled points, across channels.

    Only where that could exceed ``floor`` is it computed; elsewhere the sample's own |value|
    (also <= ``floor``) stands in. Near the ceiling is a few percent of a mastered mix, so
    this is several times cheaper than oversampling everything.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    level = np.abs(x).max(axis=1)
    reach = maximum_filter1d(level, size=2 * _TAPS + 1, mode="constant")
    hot = np.flatnonzero(reach * _OVERSHOOT > floor)
    peaks = level.copy()
    if len(hot):
        for c in range(x.shape[1]):
            padded = np.pad(x[:, c], (_TAPS, _TAPS))
            # window ending at input sample n + _DELAY: the taps that make the points after n
            windows = np.lib.stride_tricks.sliding_window_view(padded, _TAPS)[hot + _DELAY + 1]
            up = np.abs(windows @ _KERNEL).max(axis=1)
            peaks[hot] = np.maximum(peaks[hot], up)
    return peaks


def true_peak_db(x: np.ndarray) -> float:
    """Peak of the 4× oversampled signal in dBTP (the BS.1770 true-peak estimate)."""
    sample_peak = float(np.max(np.abs(x))) if np.size(x) else 0.0
    peak = float(np.max(_oversampled_peaks(x, sample_peak), initial=sample_peak))
    return 20.0 * np.log10(max(peak, 1e-12))


# ITU-R BS.1770 K-weighting at 48 kHz: a +4 dB shelf above ~1.5 kHz, then the RLB high-pass.
_K_WEIGHTING = np.array(
    [
        [
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            1.0,
            -1.69065929318241,
            0.73248077421585,
        ],
        [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
    ]
)


def k_weighted_level(x: np.ndarray) -> float:
    """Ungated BS.1770 loudness (LUFS) of the whole signal: cheap, for balancing stems."""
    y = sosfilt(_K_WEIGHTING, np.asarray(x, dtype=np.float64), axis=0)
    power = float(np.sum(np.mean(y**2, axis=0)))
    return -0.691 + 10.0 * np.log10(power) if power > 0 else float("-inf")


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
    peaks = _oversampled_peaks(x, ceiling)
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
