"""Results on S3-compatible object storage: ``s3://bucket/prefix/<job id>/<fence>/video.mp4``.

Credentials, region and endpoint come from the usual AWS settings (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_S3`` for MinIO, Ceph,
R2…), read by boto3 itself. A worker renders into a private scratch folder, uploads the
attempt under its own key before the fenced completion, and removes the scratch folder.
Downloads are a short-lived presigned URL by default, or streamed through the API.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from refvid.private import private_dir
from refvid.storage.base import Download

CHUNK = 1024 * 1024
MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg"}


class S3Storage:
    """One bucket and key prefix; a boto3 client per process, made on first use."""

    name = "s3"

    def __init__(
        self, bucket: str, prefix: str, *, scratch: Path, redirect: bool = True, url_seconds: int = 300
    ) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.scratch, self.redirect, self.url_seconds = scratch, redirect, url_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client (thread-safe; created lazily so a spawned worker makes its own)."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                self._client = boto3.client(
                    "s3", config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"})
                )
            return self._client

    def _key(self, key: str, name: str = "") -> str:
        parts = [self.prefix, key.strip("/"), name]
        return "/".join(part for part in parts if part)

    def attempt_dir(self, key: str) -> Path:
        folder = self.scratch / key
        private_dir(self.scratch)
        private_dir(folder.parent)
        private_dir(folder)
        return folder

    def publish(self, key: str, folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.endswith(".partial"):
                extra = {"ContentType": MEDIA_TYPES.get(path.suffix, "application/octet-stream")}
                self.client.upload_file(str(path), self.bucket, self._key(key, path.name), ExtraArgs=extra)
        self._drop_scratch(key)

    def _drop_scratch(self, key: str) -> None:
        folder = self.scratch / key
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()

    def _delete_prefix(self, prefix: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})

    def discard(self, key: str) -> None:
        self._delete_prefix(self._key(key) + "/")
        self._drop_scratch(key)

    def delete_job(self, job_id: str) -> None:
        self._delete_prefix(self._key(job_id) + "/")
        shutil.rmtree(self.scratch / job_id, ignore_errors=True)

    def _size(self, object_key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(head["ContentLength"])

    def download(
        self, key: str, name: str, *, filename: str, media_type: str, redirect: bool = True
    ) -> Download | None:
        object_key = self._key(key, name)
        size = self._size(object_key)
        if size is None:
            return None
        if redirect and self.redirect:
            url = self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket, "Key": object_key, "ResponseContentType": media_type,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=self.url_seconds,
            )
            return Download(size=size, url=url)
        return Download(size=size, chunks=self._chunks(object_key))

    def _chunks(self, object_key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=object_key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def read(self, key: str, name: str) -> bytes | None:
        found = self.download(key, name, filename=name, media_type="application/octet-stream", redirect=False)
        if found is None or found.chunks is None:
            return None
        return b"".join(found.chunks)
