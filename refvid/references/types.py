"""The decoded reference image every engine receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Fetcher = Callable[[str, int], bytes]
"""Downloads the URL at ``image_urls[index]``: ``fetcher(url, index) -> bytes``.

Raises :class:`refvid.errors.InvalidReference` naming the index when it cannot. The
standard one is :class:`refvid.references.fetch.UrlFetcher`.
"""


@dataclass(frozen=True)
class Reference:
    """One decoded reference: its 0-based position in ``image_urls`` and its RGB pixels."""

    index: int
    image: np.ndarray  # (H, W, 3) uint8 RGB, EXIF orientation already applied
    label: str  # short description of where it came from, safe to log (no base64 payloads)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
