"""What every result store offers: per-attempt folders to write, publishing, deletion, downloads.

Keys are ``<job id>/<fence>``: each attempt of a job writes under its own key, so a worker
that lost its job deletes only what it wrote. A job's key is published in the database by
the fenced completion (``Job.result_key``); expiry deletes everything under ``<job id>/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Download:
    """How to hand one stored file to a client: a local file, a redirect, or a byte stream."""

    size: int
    path: Path | None = None
    url: str | None = None
    chunks: Iterator[bytes] | None = None


class Storage(Protocol):
    """A place for finished videos and covers (local folder, S3-compatible bucket)."""

    name: str

    def attempt_dir(self, key: str) -> Path:
        """A private local folder where one attempt writes its files."""
        ...

    def publish(self, key: str, folder: Path) -> None:
        """Make the attempt's files durable under ``key`` (before the fenced completion)."""
        ...

    def discard(self, key: str) -> None:
        """Delete what one attempt wrote (a loser, a failure, a cancellation): only its own key."""
        ...

    def delete_job(self, job_id: str) -> None:
        """Delete every attempt of a job (expiry); nothing to delete is no error."""
        ...

    def download(
        self, key: str, name: str, *, filename: str, media_type: str, redirect: bool = True
    ) -> Download | None:
        """How to serve ``name`` of ``key``; None when it is not there (expired, deleted).

        ``redirect=False``: the bytes themselves (v1 answers with the video), never a URL.
        """
        ...

    def read(self, key: str, name: str) -> bytes | None:
        """The whole file (small files, tests); None when it is not there."""
        ...
