"""How a segment continues the one before: the conditioning video and mask, and the join.

A continuation segment is given the previous segment's last ``overlap`` frames as a
VACE ``video`` whose ``mask`` is black (keep) on them and white (generate) after, over
flat gray (the VACE authors' "nothing here"). diffusers reduces the mask to latent
frames by nearest sampling, so the overlap must be long enough to pin at least two
latent frames: 9 frames of an 85-frame segment pin latent frames 0 and 1 (5 pinned
only frame 0).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

GRAY = 128  # "nothing here" value of a conditioning frame, as the VACE authors use


def to_pil(image: np.ndarray) -> Any:
    """An RGB uint8 array as a PIL image (what the pipeline takes)."""
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(image))


def conditioning(
    frames: list[np.ndarray], length: int, overlap: int
) -> tuple[list[Any], list[Any]]:
    """Conditioning video and mask: keep the last ``overlap`` frames, generate the rest."""
    from PIL import Image

    height, width = frames[-1].shape[:2]
    gray = Image.new("RGB", (width, height), (GRAY, GRAY, GRAY))
    keep, generate = Image.new("L", (width, height), 0), Image.new("L", (width, height), 255)
    video = [to_pil(frame) for frame in frames[-overlap:]] + [gray] * (length - overlap)
    mask = [keep] * overlap + [generate] * (length - overlap)
    return video, mask


def join(frames: list[np.ndarray], segment: list[np.ndarray], overlap: int) -> None:
    """Append a segment whose first ``overlap`` frames re-render the end of ``frames``.

    The re-rendered frames drift slightly in colour (VAE round trip), so the seam is a
    short crossfade from the old frames to the new ones instead of a jump.
    """
    for offset in range(overlap):
        weight = (offset + 1) / (overlap + 1)
        index = len(frames) - overlap + offset
        frames[index] = cv2.addWeighted(frames[index], 1.0 - weight, segment[offset], weight, 0.0)
    frames.extend(segment[overlap:])
