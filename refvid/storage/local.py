"""Results in a local folder (the default): ``<results>/<job id>/<fence>/video.mp4``."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from refvid.private import private_dir
from refvid.storage.base import Download


class LocalStorage:
    """Files under ``root``, private (0700 folders, 0600 files); downloads served from disk."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, key: str) -> Path:
        folder = (self.root / key).resolve()
        if self.root.resolve() not in folder.parents:
            raise ValueError(f"result key {key!r} is outside the results folder")
        return folder

    def attempt_dir(self, key: str) -> Path:
        folder = self._folder(key)
        for _ in range(5):
            try:
                private_dir(self.root)
                for part in reversed([folder, *folder.parents]):
                    if part == self.root.resolve() or self.root.resolve() not in part.parents:
                        continue
                    private_dir(part)
                return folder
            except FileNotFoundError:  # a job folder was being removed as we made ours: again
                continue
        raise FileNotFoundError(folder)

    def publish(self, key: str, folder: Path) -> None:
        # Written in place: the fenced completion in the database is the publication.
        return None

    def discard(self, key: str) -> None:
        folder = self._folder(key)
        shutil.rmtree(folder, ignore_errors=True)
        # The job's folder goes too once no attempt is left in it.
        for parent in folder.parents:
            if parent == self.root.resolve() or self.root.resolve() not in parent.parents:
                break
            with contextlib.suppress(OSError):
                parent.rmdir()

    def delete_job(self, job_id: str) -> None:
        shutil.rmtree(self._folder(job_id), ignore_errors=True)

    def download(
        self, key: str, name: str, *, filename: str, media_type: str, redirect: bool = True
    ) -> Download | None:
        path = self._folder(key) / name
        try:
            return Download(size=path.stat().st_size, path=path)
        except FileNotFoundError:
            return None

    def read(self, key: str, name: str) -> bytes | None:
        try:
            return (self._folder(key) / name).read_bytes()
        except FileNotFoundError:
            return None
