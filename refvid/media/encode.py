"""Frames (+ optional audio) -> H.264/AAC MP4 via PyAV, streamed, byte-reproducible.

Frames arrive one at a time as I420 arrays and are handed straight to x264: nothing is
buffered, so memory does not grow with duration. The file is written beside the target
and renamed into place, so a failed or cancelled render never leaves a partial MP4.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from refvid.media.color import i420_planes
from refvid.media.spec import VideoSpec

if TYPE_CHECKING:
    import av

# PyAV (45 ms to import) is imported when the first frame is encoded, not with this module:
# by then the engine is preparing its first source on another thread, so the import costs
# the CLI's start-up nothing.

AUDIO_RATE = 48_000
AAC_FRAME = 1024

# BT.709 in FFmpeg's enum values (AVCOL_PRI_BT709, AVCOL_TRC_BT709, AVCOL_SPC_BT709) and
# AVCOL_RANGE_MPEG (limited), which is what refvid.media.color produces.
_BT709 = 1
_LIMITED_RANGE = 1
_X264_PARAMS = "colorprim=bt709:transfer=bt709:colormatrix=bt709:range=tv:mbtree=0"


@dataclass(frozen=True)
class EncoderSettings:
    """x264 settings. The defaults were chosen by measurement: ``benchmarks/encoder.py``.

    On 3 s of a real 1080p motion-engine clip (2-core EPYC, see benchmarks/RESULTS.md):
    ``veryfast`` at CRF 20 decodes at 48.4 dB PSNR (luma) and SSIM 0.993 (worst frame
    0.988), 2.7 Mbit/s, encoding at 61 fps; crops viewed at 2x show no blocking or banding,
    even in the blurred margins' smooth gradients. ``faster``/``fast``/``medium`` gained 0.5-0.7 dB for 1.6-2.3x the
    time; ``superfast`` was faster but spent 25% more bits for the same PSNR; CRF 18
    spent 37% more bits for 1 dB that no one sees. The render must stay within 1.2x of
    encoding alone, so the encoder's speed is the budget for the whole pipeline.
    ``threads`` is fixed, not "auto": x264's output depends on its thread count, and a
    fixed count keeps files byte-identical across machines with different core counts.
    MB-tree rate control is off: x264's lookahead reads memory it never initialised when
    it propagates MB-tree costs, so with it on, the same frames encoded after the process
    had freed a large buffer came out different (tests/media/test_encode.py reproduces
    it). Off, the bytes depend only on the frames; it costs a few percent of bitrate.
    """

    preset: str = "veryfast"
    crf: int = 20
    threads: int = 4
    audio_bitrate: int = 192_000


DEFAULT_SETTINGS = EncoderSettings()


def encode_video(
    frames: Iterable[np.ndarray],
    spec: VideoSpec,
    path: Path,
    *,
    audio: np.ndarray | None = None,
    settings: EncoderSettings = DEFAULT_SETTINGS,
) -> None:
    """Encode exactly ``spec.frame_count`` I420 frames (and stereo float audio) to ``path``.

    ``audio`` is float32 ``(samples, 2)`` at 48 kHz in [-1, 1]; None means no audio
    stream at all. Raises ValueError if the engine yields a different number of frames.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        _encode(frames, spec, partial, audio, settings)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _encode(
    frames: Iterable[np.ndarray],
    spec: VideoSpec,
    path: Path,
    audio: np.ndarray | None,
    settings: EncoderSettings,
) -> None:
    import av

    # bitexact keeps the muxer from writing its version string and other run-dependent
    # fields; the mov muxer writes creation_time 0 unless metadata asks otherwise.
    with av.open(
        str(path),
        mode="w",
        format="mp4",
        options={"movflags": "+faststart", "fflags": "+bitexact"},
    ) as container:
        video = container.add_stream("libx264", rate=spec.fps)
        video.width = spec.width
        video.height = spec.height
        video.pix_fmt = "yuv420p"
        video.time_base = Fraction(1, spec.fps)
        ctx = video.codec_context
        ctx.profile = "High"
        ctx.color_primaries = _BT709
        ctx.color_trc = _BT709
        ctx.colorspace = _BT709
        ctx.color_range = _LIMITED_RANGE
        ctx.flags |= av.codec.context.Flags.bitexact
        video.options = {
            "preset": settings.preset,
            "crf": str(settings.crf),
            "threads": str(settings.threads),
            "x264-params": _X264_PARAMS,
        }
        feeder = None if audio is None else _AudioFeeder(container, audio, settings)

        count = 0
        for count, frame in enumerate(frames, start=1):
            if count > spec.frame_count:
                raise ValueError(f"engine produced more than {spec.frame_count} frames")
            container.mux(video.encode(_video_frame(frame, count - 1, spec)))
            if feeder is not None:
                # Keep audio level with video so the muxer's interleaving queue stays short.
                feeder.feed_until(count * AUDIO_RATE // spec.fps)
        if count != spec.frame_count:
            raise ValueError(f"engine produced {count} frames, expected {spec.frame_count}")
        container.mux(video.encode(None))
        if feeder is not None:
            feeder.finish()


def _video_frame(frame: np.ndarray, index: int, spec: VideoSpec) -> av.VideoFrame:
    """Copy an I420 array into a frame that PyAV and FFmpeg own.

    ``VideoFrame.from_ndarray`` wraps the array without copying, and the encoder may
    still read those pixels after the Python array is freed and its memory reused by
    the next frame: a race that made output bytes differ between identical runs.
    """
    import av

    expected = (spec.height * 3 // 2, spec.width)
    if frame.shape != expected or frame.dtype != np.uint8:
        raise ValueError(f"frame {index}: got {frame.shape} {frame.dtype}, expected I420 {expected} uint8")
    out = av.VideoFrame(spec.width, spec.height, "yuv420p")
    for plane, pixels in zip(out.planes, i420_planes(frame), strict=True):
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)
        rows[:, : plane.width] = pixels
    out.pts = index
    out.time_base = Fraction(1, spec.fps)
    out.color_range = _LIMITED_RANGE
    out.colorspace = _BT709
    return out


class _AudioFeeder:
    """Encodes precomputed stereo samples to AAC in step with the video."""

    def __init__(self, container: av.container.OutputContainer, audio: np.ndarray, settings: EncoderSettings) -> None:
        import av

        if audio.ndim != 2 or audio.shape[1] != 2:
            raise ValueError(f"audio must be (samples, 2) stereo, got {audio.shape}")
        self._container = container
        self._planar = np.ascontiguousarray(np.clip(audio, -1.0, 1.0).T, dtype=np.float32)
        self._stream = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        self._stream.bit_rate = settings.audio_bitrate
        self._stream.codec_context.flags |= av.codec.context.Flags.bitexact
        self._position = 0

    def feed_until(self, sample: int) -> None:
        total = self._planar.shape[1]
        while self._position < total and self._position + AAC_FRAME <= max(sample, AAC_FRAME):
            self._encode_chunk()

    def finish(self) -> None:
        while self._position < self._planar.shape[1]:
            self._encode_chunk()
        self._container.mux(self._stream.encode(None))

    def _encode_chunk(self) -> None:
        start = self._position
        chunk = np.ascontiguousarray(self._planar[:, start : start + AAC_FRAME])
        import av

        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        self._container.mux(self._stream.encode(frame))
        self._position += chunk.shape[1]
