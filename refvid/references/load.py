"""Turn ``image_urls`` entries (base64, data URIs, URLs, CLI paths) into :class:`Reference` s.

Every caller loads through here with one :class:`ReferencePolicy`: the CLI may read local
files, the server may not, and URLs go through the policy's fetcher. The server also calls
:func:`check_inline` when a request arrives, so a broken base64 image is refused before the
request is charged or queued; URL references are only fetched by the worker that renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from refvid.errors import InvalidReference
from refvid.references.decode import (
    MIN_SIDE,
    decode_base64,
    decode_image,
    describe_unknown,
    sniff_format,
)
from refvid.references.fetch import DEFAULT_MAX_BYTES, UrlFetcher, url_label
from refvid.references.types import Reference

if TYPE_CHECKING:
    from refvid.config import Settings

Fetcher = Callable[[str, int], bytes]
"""Downloads ``url`` for ``image_urls[index]``; raises :class:`InvalidReference` naming it."""

_SCHEME: Final = re.compile(r"([a-z][a-z0-9+.-]*):", re.I)
_WINDOWS_DRIVE: Final = re.compile(r"[a-z]:[\\/]", re.I)
_IMAGE_SUFFIX: Final = re.compile(r"\.(jpe?g|png|webp|gif|heic|heif|avif|bmp|tiff?)$", re.I)
_LABEL_CHARS: Final = 200
_UNKNOWN: Final = describe_unknown(b"")
MAX_PARALLEL_FETCHES: Final = 4


@dataclass(frozen=True)
class ReferencePolicy:
    """Where references may come from: local files or not, and how URLs are downloaded."""

    allow_paths: bool = False
    fetcher: Fetcher | None = None  # None: a UrlFetcher with its defaults (public addresses only)

    @classmethod
    def for_server(cls, settings: Settings) -> ReferencePolicy:
        """No files; URLs through the SSRF-safe fetcher configured by the settings."""
        fetcher = UrlFetcher(
            allowed_networks=list(settings.allow_private_networks),
            max_bytes=settings.fetch_max_bytes,
            timeout=settings.fetch_timeout,
            deadline=settings.fetch_timeout,  # the setting promises seconds for one whole download
        )
        return cls(allow_paths=False, fetcher=fetcher)

    def fetch(self, url: str, index: int) -> bytes:
        """Download ``url`` with the policy's fetcher."""
        return (self.fetcher or UrlFetcher())(url, index)


SERVER: Final = ReferencePolicy()
"""No local files; URLs only to public addresses (the defaults of :class:`UrlFetcher`)."""
CLI: Final = ReferencePolicy(allow_paths=True)
"""Local files allowed, as a person's own command line may."""


def load_references(sources: Sequence[str], policy: ReferencePolicy = SERVER) -> list[Reference]:
    """Decode every source, in order; the first bad one raises :class:`InvalidReference`.

    URLs are downloaded concurrently (the wait is network, not CPU); decoding stays
    sequential so at most one full-size image is in memory at a time.
    """
    urls = {
        index: source.strip()
        for index, source in enumerate(sources)
        if isinstance(source, str) and _is_url(source.strip())
    }
    if not urls:
        return [load_reference(i, s, policy) for i, s in enumerate(sources)]
    pool = ThreadPoolExecutor(max_workers=min(len(urls), MAX_PARALLEL_FETCHES))
    try:
        downloads = {index: pool.submit(policy.fetch, url, index) for index, url in urls.items()}
        references = []
        for index, source in enumerate(sources):
            if index in downloads:
                data = downloads[index].result()
                references.append(Reference(index, decode_image(data, index), url_label(urls[index])))
            else:
                references.append(load_reference(index, source, policy))
        return references
    finally:
        # On an error, downloads still queued are dropped; running ones end by their timeouts.
        pool.shutdown(wait=False, cancel_futures=True)


def check_inline(sources: Sequence[str]) -> None:
    """Decode every base64 and data-URI source to check it; URLs are left to the renderer.

    Raises :class:`InvalidReference` for the first bad one, exactly as rendering would.
    Decoding stops at a small working size (JPEGs are DCT-scaled), so a check costs a
    fraction of the real decode; the pixels are dropped.
    """
    for index, source in enumerate(sources):
        if not (isinstance(source, str) and _is_url(source.strip())):
            load_reference(index, source, SERVER, working_side=MIN_SIDE)


def load_reference(
    index: int, source: str, policy: ReferencePolicy = SERVER, *, working_side: int | None = None
) -> Reference:
    """Decode one source (see :func:`load_references`) into a :class:`Reference`."""
    sizing = {} if working_side is None else {"working_side": working_side}
    allow_paths = policy.allow_paths
    if not isinstance(source, str):
        raise InvalidReference(index, f"must be a string, not {type(source).__name__}")
    text = source.strip()
    if not text:
        raise InvalidReference(
            index, "is empty; send an http(s) URL, a data:image/...;base64, URI or bare base64"
        )
    if _is_url(text):
        data = policy.fetch(text, index)
        return Reference(index, decode_image(data, index, **sizing), url_label(text))
    if text[:5].lower() == "data:":
        data = decode_base64(text, index)
        kind = text[5:].split(",", 1)[0].split(";", 1)[0].strip().lower() or "data"
        return Reference(index, decode_image(data, index, **sizing), f"{kind} data URI ({_kb(data)})")
    if allow_paths:
        path = _existing_file(text)
        if path is not None:
            image = decode_image(_read_file(path, index), index, **sizing)
            return Reference(index, image, text[:_LABEL_CHARS])
    scheme = _SCHEME.match(text)
    if scheme and not _WINDOWS_DRIVE.match(text):  # ':' is not base64, so this is a scheme
        raise InvalidReference(
            index,
            f"'{scheme.group(1)}:' sources are not supported; send an http(s) URL, a "
            "data:image/...;base64, URI or bare base64",
        )
    if _looks_like_path(text):
        raise InvalidReference(index, _path_message(text, allow_paths))
    data = decode_base64(text, index)
    # "images/cat" is valid base64 of nothing recognisable: say it looks like a path. A small
    # GIF (or BMP, ...) has '/' in its base64 too, but its bytes say what it is.
    unknown = sniff_format(data) is None and describe_unknown(data) == _UNKNOWN
    if unknown and "/" in text and len(text) <= 4096:
        raise InvalidReference(index, _path_message(text, allow_paths))
    return Reference(index, decode_image(data, index, **sizing), f"base64 ({_kb(data)})")


def _is_url(text: str) -> bool:
    return text[:8].lower().startswith(("http://", "https://"))


def _kb(data: bytes) -> str:
    return f"{max(1, round(len(data) / 1000))} kB"


def _looks_like_path(text: str) -> bool:
    if len(text) > 4096:
        return False
    if text.startswith(("./", "../", "~", "\\")) or _WINDOWS_DRIVE.match(text):
        return True
    # '.' and '\\' never occur in base64, and real image base64 is never this short.
    if "\\" in text or ("." in text and len(text) <= 1024):
        return True
    return bool(_IMAGE_SUFFIX.search(text))


def _path_message(text: str, allow_paths: bool) -> str:
    shown = text[:_LABEL_CHARS]
    if allow_paths:
        return f"no such file: {shown}; check the path"
    return (
        f"looks like a local file path ({shown}); the API does not read files — send the "
        "image as base64 (e.g. refvid.client.image_file_to_base64(path)), a data URI or an "
        "http(s) URL"
    )


def _existing_file(text: str) -> Path | None:
    try:
        path = Path(text).expanduser()
        return path if path.is_file() else None
    except (OSError, ValueError):  # name too long, NUL byte, ...
        return None


def _read_file(path: Path, index: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > DEFAULT_MAX_BYTES:
            raise InvalidReference(
                index,
                f"{path} is {size / 1024 / 1024:.1f} MB; references may be at most "
                f"{DEFAULT_MAX_BYTES / 1024 / 1024:g} MB — send a smaller image",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InvalidReference(index, f"could not read {path} ({exc.strerror or exc})") from exc
