"""The cover image: one frame of the video as a JPEG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from refvid.media.color import i420_to_rgb
from refvid.media.spec import VideoSpec

COVER_QUALITY = 90


def write_cover(frame: np.ndarray, spec: VideoSpec, path: Path) -> None:
    """Write an I420 frame of ``spec``'s size to ``path`` as a baseline JPEG."""
    if frame.shape != (spec.height * 3 // 2, spec.width):
        raise ValueError(f"cover frame has shape {frame.shape}, not I420 {spec.width}x{spec.height}")
    Image.fromarray(i420_to_rgb(frame)).save(Path(path), format="JPEG", quality=COVER_QUALITY)
