"""Read back what an MP4 holds, the way a player would: streams, tags, frames, samples."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class MediaInfo:
    """Facts about an MP4, from its container and a full decode."""

    width: int
    height: int
    fps: float
    frame_count: int
    codec: str
    profile: str | None
    pix_fmt: str | None
    color_primaries: int
    color_trc: int
    colorspace: int
    color_range: int
    faststart: bool
    audio_rate: int | None
    audio_channels: int | None
    audio_samples: int | None

    @property
    def has_audio(self) -> bool:
        return self.audio_rate is not None

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def probe(path: Path) -> MediaInfo:
    """Decode every frame (and audio sample) of ``path`` and describe it."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        ctx = video.codec_context
        fps = float(video.average_rate or 0)
        tags = (int(ctx.color_primaries), int(ctx.color_trc), int(ctx.colorspace), int(ctx.color_range))
        width, height, codec, profile, pix_fmt = ctx.width, ctx.height, ctx.name, ctx.profile, ctx.pix_fmt
        frames = sum(1 for _ in container.decode(video=0))
    audio_rate = audio_channels = audio_samples = None
    with av.open(str(path)) as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            audio_rate = stream.rate
            audio_channels = stream.codec_context.channels
            audio_samples = sum(frame.samples for frame in container.decode(audio=0))
    return MediaInfo(
        width=width,
        height=height,
        fps=fps,
        frame_count=frames,
        codec=codec,
        profile=profile,
        pix_fmt=pix_fmt,
        color_primaries=tags[0],
        color_trc=tags[1],
        colorspace=tags[2],
        color_range=tags[3],
        faststart=_moov_first(Path(path)),
        audio_rate=audio_rate,
        audio_channels=audio_channels,
        audio_samples=audio_samples,
    )


def read_frames(path: Path, every: int = 1) -> Iterator[np.ndarray]:
    """Yield decoded frames as (H, W, 3) uint8 RGB, every ``every``-th one."""
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % every == 0:
                yield frame.to_ndarray(format="rgb24")


def read_audio(path: Path) -> np.ndarray | None:
    """All decoded audio as float32 (samples, channels), or None without an audio stream."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    planar = np.concatenate(chunks, axis=1)  # fltp: (channels, samples)
    return np.ascontiguousarray(planar.T.astype(np.float32))


def _moov_first(path: Path) -> bool:
    """True when the index (moov box) precedes the media data (mdat): playback starts at once."""
    with open(path, "rb") as handle:
        while header := handle.read(8):
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(handle.read(8), "big") - 8
            elif size == 0:
                return False
            handle.seek(size - 8, 1)
    return False
