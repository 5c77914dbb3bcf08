"""Where finished results live: a local folder (the default) or an S3-compatible bucket.

``REFVID_RESULTS_URL`` chooses: empty or a path for a folder, ``s3://bucket/prefix`` for
object storage (:mod:`refvid.storage.s3`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from refvid.config import Settings
from refvid.storage.base import Download, Storage
from refvid.storage.local import LocalStorage

__all__ = ["Download", "LocalStorage", "Storage", "open_storage", "result_key"]


def result_key(job_id: str, published: str | None) -> str:
    """The key of a completed job's files: the published attempt's, or the first release's ``<id>``."""
    return published or job_id


def open_storage(settings: Settings) -> Storage:
    """The result store the settings name (``REFVID_RESULTS_URL``)."""
    url = urlsplit(settings.results_url)
    if url.scheme == "s3":
        from refvid.storage.s3 import S3Storage

        return S3Storage(
            url.netloc, url.path, scratch=settings.home / "scratch",
            redirect=settings.results_delivery == "redirect", url_seconds=settings.results_url_seconds,
        )
    return LocalStorage(settings.results_dir)
