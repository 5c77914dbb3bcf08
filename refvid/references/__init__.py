"""Reference images: from paths, base64, data URIs or URLs to decoded, oriented RGB."""

from __future__ import annotations

from refvid.references.decode import decode_base64, decode_image
from refvid.references.fetch import ResolvedTarget, UrlFetcher, UrlRejected, check_url
from refvid.references.load import (
    CLI,
    SERVER,
    Fetcher,
    ReferencePolicy,
    check_inline,
    load_reference,
    load_references,
)
from refvid.references.types import Reference

__all__ = [
    "CLI",
    "SERVER",
    "Fetcher",
    "Reference",
    "ReferencePolicy",
    "ResolvedTarget",
    "UrlFetcher",
    "UrlRejected",
    "check_inline",
    "check_url",
    "decode_base64",
    "decode_image",
    "load_reference",
    "load_references",
]
