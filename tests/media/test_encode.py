"""The encoder, checked by decoding what it wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from refvid.engines.base import VideoSpec
from refvid.media.color import i420_to_rgb, rgb_to_i420
from refvid.media.encode import encode_video
from refvid.media.probe import probe, read_audio

SPEC = VideoSpec(width=320, height=180, frame_count=24)


def moving_frames(spec: VideoSpec, colour_shift: int = 0) -> list[np.ndarray]:
    yy, xx = np.mgrid[0 : spec.height, 0 : spec.width]
    frames = []
    for i in range(spec.frame_count):
        rgb = np.stack([(xx + 3 * i) % 256, yy % 256, np.full_like(xx, 100 + colour_shift)], axis=-1)
        frames.append(rgb_to_i420(rgb.astype(np.uint8)))
    return frames


def test_stream_is_h264_high_bt709_faststart(tmp_path: Path) -> None:
    out = tmp_path / "a.mp4"
    encode_video(moving_frames(SPEC), SPEC, out)
    info = probe(out)
    assert (info.width, info.height, info.fps, info.frame_count) == (320, 180, 24.0, 24)
    assert info.codec == "h264" and info.profile == "High" and info.pix_fmt == "yuv420p"
    assert (info.color_primaries, info.color_trc, info.colorspace, info.color_range) == (1, 1, 1, 1)
    assert info.faststart
    assert not info.has_audio


def test_same_frames_give_identical_bytes(tmp_path: Path) -> None:
    frames = moving_frames(SPEC)
    encode_video(frames, SPEC, tmp_path / "a.mp4")
    encode_video(frames, SPEC, tmp_path / "b.mp4")
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_colours_survive_the_round_trip(tmp_path: Path) -> None:
    colour = np.array([200, 120, 40], np.uint8)
    frames = [rgb_to_i420(np.tile(colour, (180, 320, 1)))] * 24
    encode_video(frames, SPEC, tmp_path / "c.mp4")
    with av.open(str(tmp_path / "c.mp4")) as container:
        decoded = next(container.decode(video=0)).to_ndarray(format="yuv420p")
    assert np.abs(i420_to_rgb(decoded).reshape(-1, 3).mean(axis=0) - colour).max() < 3


@pytest.mark.parametrize("count", [23, 25])
def test_wrong_frame_count_fails_and_leaves_nothing(tmp_path: Path, count: int) -> None:
    frames = moving_frames(VideoSpec(320, 180, count))
    out = tmp_path / "bad.mp4"
    with pytest.raises(ValueError, match="frames"):
        encode_video(frames, SPEC, out)
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_shape_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frame 0"):
        encode_video([np.zeros((180, 320), np.uint8)], SPEC, tmp_path / "x.mp4")


def test_audio_track_is_stereo_48k_and_as_long_as_the_video(tmp_path: Path) -> None:
    samples = 48_000  # one second, like the 24 frames
    t = np.arange(samples) / 48_000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], axis=1).astype(np.float32)
    encode_video(moving_frames(SPEC), SPEC, tmp_path / "m.mp4", audio=audio)
    info = probe(tmp_path / "m.mp4")
    assert info.audio_rate == 48_000 and info.audio_channels == 2
    assert info.audio_samples is not None and abs(info.audio_samples - samples) <= 1024
    decoded = read_audio(tmp_path / "m.mp4")
    assert decoded is not None and decoded.shape[1] == 2
    spectrum = np.abs(np.fft.rfft(decoded[4096:36864, 0]))
    assert abs(np.argmax(spectrum) * 48_000 / 32768 - 440) < 5


_ENCODE_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from refvid.engines.base import VideoSpec
from refvid.media.color import rgb_to_i420
from refvid.media.encode import encode_video
SPEC = VideoSpec(320, 180, 24)
yy, xx = np.mgrid[0:180, 0:320]
frames = [
    rgb_to_i420(np.stack([(xx * 0.7 + 3 * i) % 256, (yy + 2 * i) % 256, (xx + yy) % 200], -1).astype(np.uint8))
    for i in range(24)
]
for k in range(3):
    garbage = [np.random.default_rng(j).integers(0, 255, 320 * 180 * 60, dtype=np.uint8) for j in range(8)]
    del garbage
    encode_video(frames, SPEC, Path(sys.argv[1]) / f"{k}.mp4")
"""


def test_identical_bytes_whatever_the_heap_held_before(tmp_path: Path) -> None:
    # x264's MB-tree lookahead reads memory it never initialised: in a fresh process, the
    # first encode after a large buffer had been freed differed from the ones after it.
    # A fresh process gives the heap history under test.
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", _ENCODE_SCRIPT, str(tmp_path)], check=True, cwd=root)
    outputs = [(tmp_path / f"{k}.mp4").read_bytes() for k in range(3)]
    assert outputs[0] == outputs[1] == outputs[2]
