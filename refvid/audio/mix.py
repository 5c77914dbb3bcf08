"""Score → stereo mix: instruments on stems, panning, ducking, reverb; then mastering."""

from __future__ import annotations

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.signal import butter, sosfilt

from refvid.audio.drums import make_kit, riser
from refvid.audio.master import k_weighted_level, master
from refvid.audio.plan import SAMPLE_RATE, MusicPlan
from refvid.audio.score import Hit, Note, compose
from refvid.audio.synth import VOICES, render_note
from refvid.audio.theory import scale_pitch_classes

SR = SAMPLE_RATE

# Stem pan (-1 left .. +1 right).
PAN = {"chords": 0.0, "bass": 0.0, "arp": 0.35, "lead": -0.12}
# Balance of the parts, in LU against the mood's reference: each stem is measured with
# K-weighting (as loudness meters and ears weigh it) and set to its level, so a bell and a
# flute carry a melody equally and a sine sub cannot swamp a pad. Mastering then sets the
# overall loudness.
BALANCE: dict[str, dict[str, float]] = {
    "upbeat": {"lead": -1, "chords": -5, "arp": -7, "bass": -4, "drums": 0},
    "calm": {"lead": 0, "chords": -3, "arp": -5, "bass": -7},
    "dramatic": {"lead": -1, "chords": -2, "bass": -4, "drums": -1},
    "mysterious": {"lead": 0, "chords": -4, "arp": -6, "bass": -6, "drums": -4},
    "playful": {"lead": 0, "chords": -5, "bass": -5, "drums": -2},
}
DRUM_PAN = {"hat": 0.3, "shaker": -0.35, "rim": 0.2, "tom": -0.25, "open_hat": 0.3, "crash": -0.15}
# How much of each stem goes to the reverb.
SENDS = {"chords": 0.8, "bass": 0.05, "arp": 0.9, "lead": 0.7, "drums": 0.25}


def _pan(p: float) -> tuple[float, float]:
    """Constant-power pan gains."""
    angle = (p + 1.0) * np.pi / 4.0
    return float(np.cos(angle)), float(np.sin(angle))


def _add(buf: np.ndarray, start: int, sig: np.ndarray, gains: tuple[float, float]) -> None:
    end = min(len(buf), start + len(sig))
    if end <= start:
        return
    seg = sig[: end - start]
    buf[start:end, 0] += gains[0] * seg
    buf[start:end, 1] += gains[1] * seg


def _render_stem(instrument: str, notes: list[Note], n: int, pan: float) -> np.ndarray:
    voice = VOICES[instrument]
    buf = np.zeros((n, 2))
    left, right = _pan(pan)
    # Repeated notes (a stab pattern, an ostinato) are rendered once: oscillators restart at a
    # fixed phase per pitch ("key sync", as hardware synths do), so the copies are identical.
    cache: dict[tuple[float, float, int], np.ndarray] = {}

    def sound(midi: float, gate: float, side: int) -> np.ndarray:
        key = (midi, round(gate, 4), side)
        if key not in cache:
            phase = (midi * 0.618034 + 0.31 * side) % 1.0
            cache[key] = render_note(voice, midi, gate, 1.0, phase, side)
        return cache[key]

    for note in notes:
        start = round(note.start * SR)
        if start >= n:
            continue
        v = note.velocity
        if voice.detune:
            # two copies detuned apart, one per side: the chorus that makes a pad wide
            _add(buf, start, sound(note.midi, note.gate, -1), (left * v, 0.0))
            _add(buf, start, sound(note.midi, note.gate, 1), (0.0, right * v))
        else:
            _add(buf, start, sound(note.midi, note.gate, 0), (left * v, right * v))
    return buf


def _render_drums(
    plan: MusicPlan, hits: list[Hit], risers: list[float], n: int, rng: np.random.Generator
) -> np.ndarray:
    kit = make_kit(rng, scale_pitch_classes(*plan.tonic_mode))
    buf = np.zeros((n, 2))
    for hit in hits:
        start = round(hit.start * SR)
        if 0 <= start < n:
            _add(buf, start, kit[hit.sound] * hit.velocity, _pan(DRUM_PAN.get(hit.sound, 0.0)))
    length = 2 * plan.beat
    whoosh = riser(length, rng) * 0.35
    for end in risers:
        start = round((end - length) * SR)
        if start >= 0:
            _add(buf, start, whoosh, _pan(0.0))
    return buf


def _filter(x: np.ndarray, kind: str, freq: float) -> np.ndarray:
    sos = butter(2, freq, btype=kind, fs=SR, output="sos")
    return np.asarray(sosfilt(sos, x, axis=0))


def impulse_response(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A synthetic hall: sparse early reflections, then a decorrelated stereo tail whose
    highs die faster than its lows (air absorption). Unit energy per channel."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    noise = rng.standard_normal((n, 2))
    low = _filter(noise, "lowpass", 1800.0)
    high = noise - low
    rt60_low, rt60_high = seconds * 0.6, seconds * 0.3
    tail = (
        low * np.exp(-6.91 * t / rt60_low)[:, None]
        + 0.6 * high * np.exp(-6.91 * t / rt60_high)[:, None]
    )
    predelay = int(0.018 * SR)
    tail[:predelay] = 0.0
    ramp = int(0.03 * SR)  # the tail swells in rather than starting with a burst
    tail[predelay : predelay + ramp] *= np.linspace(0.0, 1.0, ramp)[:, None]
    for _ in range(6):
        tap = int(rng.integers(int(0.004 * SR), predelay + ramp))
        tail[tap] += rng.uniform(-0.5, 0.5, size=2) * 8
    return tail / np.sqrt(np.sum(tail**2, axis=0))


def mix(plan: MusicPlan) -> np.ndarray:
    """The un-mastered stereo mix (float64, exactly the video's length)."""
    score = compose(plan)
    n = plan.sample_count
    rng = np.random.default_rng([plan.seed, 0x6D6978])
    stems: dict[str, np.ndarray] = {}
    for name, instrument in (
        ("chords", plan.chords),
        ("bass", plan.bass),
        ("arp", plan.arp),
        ("lead", plan.lead),
    ):
        notes: list[Note] = getattr(score, name)
        if instrument is None or not notes:
            continue
        stems[name] = _render_stem(instrument, notes, n, PAN[name])
    # carve space: harmony and lead out of the bass's range, pads softened by the mood's energy
    if "chords" in stems:
        stems["chords"] = _filter(stems["chords"], "highpass", 150.0)
        if plan.chords in ("pad", "strings"):
            stems["chords"] = _filter(stems["chords"], "lowpass", 2200.0 + 3000.0 * plan.energy)
    if "lead" in stems:
        stems["lead"] = _filter(stems["lead"], "highpass", 220.0)
    if "bass" in stems:
        stems["bass"] = _filter(stems["bass"], "lowpass", 900.0)
    if plan.drums is not None:
        stems["drums"] = _render_drums(plan, score.hits, score.risers, n, rng)
    for name, stem in stems.items():
        level = k_weighted_level(stem)
        if np.isfinite(level):
            stems[name] = stem * 10.0 ** ((BALANCE[plan.mood].get(name, -4.0) - level) / 20.0)
    if plan.drums == "pop":
        _duck(stems, [h.start for h in score.hits if h.sound == "kick"], n)
    dry = sum(stems.values(), np.zeros((n, 2)))
    send = sum((stems[k] * SENDS[k] for k in stems), np.zeros((n, 2)))
    ir = impulse_response(1.6 + 1.5 * plan.reverb, rng)
    wet = _convolve(send.mean(axis=1), ir, n)
    return np.asarray(dry + wet * plan.reverb * 1.6)


def _convolve(mono: np.ndarray, ir: np.ndarray, n: int) -> np.ndarray:
    """Mono send through a stereo impulse response: one forward FFT shared by both sides."""
    size = next_fast_len(n + len(ir) - 1, real=True)
    spectrum = rfft(mono, size)
    return np.stack([irfft(spectrum * rfft(ir[:, c], size), size)[:n] for c in range(2)], axis=1)


def _duck(stems: dict[str, np.ndarray], kicks: list[float], n: int) -> None:
    """Sidechain pump: harmony and bass dip under each kick, the pulse of pop productions."""
    env = np.ones(n)
    length = int(0.22 * SR)
    k = np.arange(length)
    # 5 ms into the dip (faster thumps audibly), then a 60 ms recovery
    shape = 1.0 - 0.4 * np.exp(-k / (0.06 * SR)) * np.minimum(1.0, k / (0.005 * SR))
    for t in kicks:
        s = round(t * SR)
        e = min(n, s + length)
        if s < n:
            env[s:e] = np.minimum(env[s:e], shape[: e - s])
    for name in ("chords", "arp", "bass"):
        if name in stems:
            stems[name] = stems[name] * env[:, None]


def render_music(plan: MusicPlan) -> np.ndarray:
    """The finished soundtrack: float32, shape (round(duration × 48000), 2), mastered and faded."""
    return master(mix(plan), plan.fade_in, plan.fade_out)
