"""End to end: ``generate(..., bgm=True)`` → MP4 → the audio decoded back as a player would."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from refvid.audio import MusicPlan
from refvid.audio.theory import scale_pitch_classes
from refvid.generate import GenerationResult, generate
from refvid.request import GenerationRequest

from .measure import (
    integrated_lufs,
    key_energy_fraction,
    onset_strength,
    tempo_period,
    true_peak_dbtp,
)

pytestmark = pytest.mark.slow  # full-size renders with music: outside the fast lane (-m "not slow")

AAC_FRAME = 1024
UPBEAT = "A happy, sunny day: the red ball, then the blue box, then back to the ball"
CALM = "A calm, soft morning: the red ball, then the blue box"


def _image(seed: int) -> np.ndarray:
    """A colourful 320×240 picture with a bright disc, distinct per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    img = np.stack(
        [127 + 100 * np.sin(xx / 40 * rng.uniform(0.5, 2) + c) for c in range(3)], axis=2
    )
    disc = (xx - 160) ** 2 + (yy - 120) ** 2 < 60**2
    img[disc] = rng.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def _data_uri(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


IMAGES = [_data_uri(_image(i)) for i in range(2)]


def _render(
    tmp: Path, name: str, prompt: str, bgm: bool, seed: int = 4242
) -> tuple[GenerationResult, Path]:
    request = GenerationRequest(
        prompt=prompt, image_urls=IMAGES, aspect_ratio="1:1", duration=5, seed=seed, bgm=bgm
    )
    out = tmp / f"{name}.mp4"
    return generate(request, out), out


def _decode_audio(path: Path) -> tuple[np.ndarray, int, int, float]:
    """Samples (n, 2) float, channels, sample rate, and the video stream's duration (s)."""
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 1
        stream = container.streams.audio[0]
        channels, rate = stream.codec_context.channels, stream.codec_context.sample_rate
        video = container.streams.video[0]
        video_seconds = float(video.frames / video.average_rate)
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    planar = np.concatenate(chunks, axis=1)  # fltp: (channels, samples)
    return planar.T.astype(np.float64), channels, rate, video_seconds


@pytest.fixture(scope="module")
def upbeat(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerationResult, Path]:
    return _render(tmp_path_factory.mktemp("bgm"), "upbeat", UPBEAT, True)


def test_soundtrack_is_fitted_mastered_music(upbeat: tuple[GenerationResult, Path]) -> None:
    result, path = upbeat
    assert result.has_audio
    plan = MusicPlan.from_dict(result.plan["music"])
    assert plan.mood == "upbeat" and plan.duration == result.duration
    audio, channels, rate, video_seconds = _decode_audio(path)
    assert (channels, rate) == (2, 48000)
    assert abs(len(audio) - round(video_seconds * rate)) <= AAC_FRAME
    assert integrated_lufs(audio) == pytest.approx(-16.0, abs=1.0)
    assert true_peak_dbtp(audio) <= -1.0
    assert np.max(np.abs(audio)) < 1.0
    assert key_energy_fraction(audio, set(scale_pitch_classes(*plan.tonic_mode))) > 0.85
    assert tempo_period(audio) == pytest.approx(plan.beat, rel=0.04)
    # the phrases follow the shots
    assert [s.start_beat * plan.beat for s in plan.sections[1:]] == pytest.approx(
        result.plan["cut_times"], abs=plan.beat / 2
    )


def test_upbeat_prompt_is_faster_than_calm(
    upbeat: tuple[GenerationResult, Path], tmp_path: Path
) -> None:
    result, path = upbeat
    calm, calm_path = _render(tmp_path, "calm", CALM, True)
    assert result.plan["music"]["tempo_bpm"] > calm.plan["music"]["tempo_bpm"]
    fast, slow = _decode_audio(path)[0], _decode_audio(calm_path)[0]
    # the measured beat of the upbeat track is shorter than the calm one's planned beat
    assert tempo_period(fast) < 60.0 / calm.plan["music"]["tempo_bpm"]
    assert onset_strength(fast) > 1.8 * onset_strength(slow)


def test_same_seed_same_samples_and_bytes(
    upbeat: tuple[GenerationResult, Path], tmp_path: Path
) -> None:
    _, path = upbeat
    _, again = _render(tmp_path, "again", UPBEAT, True)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert np.array_equal(_decode_audio(again)[0], _decode_audio(path)[0])


def test_without_bgm_there_is_no_audio_stream(tmp_path: Path) -> None:
    result, path = _render(tmp_path, "silent", UPBEAT, False)
    assert not result.has_audio and "music" not in result.plan
    with av.open(str(path)) as container:
        assert len(container.streams.audio) == 0
        assert len(container.streams.video) == 1


def test_cli_generate_and_plan_with_bgm(tmp_path: Path, demo_paths: list[Path]) -> None:
    from typer.testing import CliRunner

    from refvid.cli import app

    images = [arg for path in demo_paths[:2] for arg in ("-i", str(path))]
    common = [
        *images,
        "-p",
        "A mysterious night: the astronaut, then the coffee",
        "-s",
        "77",
        "-a",
        "1:1",
        "--bgm",
    ]
    planned = CliRunner().invoke(app, ["plan", *common])
    assert planned.exit_code == 0, planned.output
    music = json.loads(planned.output)["music"]
    assert music["mood"] == "mysterious" and "night" in music["mood_words"]
    assert isinstance(music["tempo_bpm"], int) and music["key"].split()[1] in ("minor", "dorian")

    out = tmp_path / "cli.mp4"
    result = CliRunner().invoke(app, ["generate", *common, "-o", str(out)])
    assert result.exit_code == 0, result.output
    audio, channels, rate, video_seconds = _decode_audio(out)
    assert (channels, rate) == (2, 48000) and abs(
        len(audio) - round(video_seconds * rate)
    ) <= AAC_FRAME
