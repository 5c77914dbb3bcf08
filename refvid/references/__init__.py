"""Reference images: from paths, base64, data URIs or URLs to decoded, oriented RGB."""

from __future__ import annotations

from refvid.references.types import Reference

__all__ = ["Reference"]
