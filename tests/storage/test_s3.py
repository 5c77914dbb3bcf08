"""Results on S3-compatible storage (moto on loopback): per-attempt keys, presigned downloads, expiry."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from refvid.config import Settings
from refvid.storage import open_storage
from refvid.storage.s3 import S3Storage

from ..s3 import S3
from ..s3 import s3 as s3
from ..s3 import s3_server as s3_server


def _storage(tmp_path: Path, s3: S3, **overrides: object) -> S3Storage:
    storage = open_storage(Settings(home=tmp_path, results_url=s3.url("out"), **overrides))  # type: ignore[arg-type]
    assert isinstance(storage, S3Storage)
    return storage


def _attempt(storage: S3Storage, key: str, video: bytes) -> None:
    folder = storage.attempt_dir(key)
    (folder / "video.mp4").write_bytes(video)
    (folder / "cover.jpg").write_bytes(b"\xff\xd8cover")
    storage.publish(key, folder)
    assert not folder.exists()  # uploaded: the scratch copy is gone


def test_attempts_have_their_own_keys_and_a_loser_deletes_only_its_own(tmp_path: Path, s3: S3) -> None:
    storage = _storage(tmp_path, s3)
    _attempt(storage, "req_a/1", b"first")
    _attempt(storage, "req_a/2", b"second")
    _attempt(storage, "req_b/1", b"other")
    assert s3.keys("out/req_a/") == [
        "out/req_a/1/cover.jpg", "out/req_a/1/video.mp4", "out/req_a/2/cover.jpg", "out/req_a/2/video.mp4",
    ]
    storage.discard("req_a/1")
    assert s3.keys("out/req_a/") == ["out/req_a/2/cover.jpg", "out/req_a/2/video.mp4"]
    assert storage.read("req_a/2", "video.mp4") == b"second"
    storage.delete_job("req_a")
    storage.delete_job("req_a")  # idempotent
    assert s3.keys("out/") == ["out/req_b/1/cover.jpg", "out/req_b/1/video.mp4"]
    assert storage.download("req_a/2", "video.mp4", filename="x.mp4", media_type="video/mp4") is None


def test_downloads_are_short_lived_presigned_redirects_or_streams(tmp_path: Path, s3: S3) -> None:
    storage = _storage(tmp_path, s3, results_url_seconds=120)
    _attempt(storage, "req_c/1", b"\x00\x00\x00\x18ftypmp42" + b"x" * 3000)
    found = storage.download("req_c/1", "video.mp4", filename="req_c.mp4", media_type="video/mp4")
    assert found is not None and found.url is not None and found.size == 3012
    url = urlsplit(found.url)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == s3.endpoint
    assert url.path == f"/{s3.bucket}/out/req_c/1/video.mp4"
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Signature"][0] and query["response-content-type"] == ["video/mp4"]
    fetched = requests.get(found.url, timeout=10)
    assert fetched.content[4:8] == b"ftyp" and fetched.headers["content-type"] == "video/mp4"
    streamed = storage.download(
        "req_c/1", "video.mp4", filename="req_c.mp4", media_type="video/mp4", redirect=False
    )
    assert streamed is not None and streamed.url is None and streamed.chunks is not None
    assert b"".join(streamed.chunks) == fetched.content
    always = _storage(tmp_path, s3, results_delivery="stream")
    through = always.download("req_c/1", "video.mp4", filename="req_c.mp4", media_type="video/mp4")
    assert through is not None and through.url is None
