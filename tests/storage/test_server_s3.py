"""A server whose results live in a bucket: v2 redirects to a presigned URL, v1 sends the bytes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from refvid.db import utcnow
from refvid.jobs.supervisor import expire_results

from ..api.live import LiveServer, body, wait_status
from ..api.live import serve as serve
from ..s3 import S3
from ..s3 import s3 as s3
from ..s3 import s3_server as s3_server

pytestmark = pytest.mark.slow  # live server and renders


def test_results_in_a_bucket(serve: Callable[..., LiveServer], s3: S3) -> None:
    server = serve(results_url=s3.url())
    key, _, _ = server.key("5")
    headers = {"x-api-key": key}
    sub = requests.post(server.url + "/v2/vidu-q1-reference-to-video", json=body(), headers=headers).json()
    assert wait_status(server.url, key, sub["request_id"], {"COMPLETED", "FAILED"}, 120)["status"] == "COMPLETED"
    job_id = sub["request_id"]
    assert s3.keys(f"results/{job_id}/") == [f"results/{job_id}/1/cover.jpg", f"results/{job_id}/1/video.mp4"]

    answer = requests.get(sub["video_url"], headers=headers, allow_redirects=False)
    assert answer.status_code == 307
    location = urlsplit(answer.headers["location"])
    assert location.path == f"/{s3.bucket}/results/{job_id}/1/video.mp4"
    assert parse_qs(location.query)["X-Amz-Expires"] == ["300"]
    video = requests.get(sub["video_url"], headers=headers)  # followed to the bucket
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    result = requests.get(sub["response_url"], headers=headers).json()
    assert requests.get(result["output"]).content == video.content  # the signed link, too

    sync = requests.post(server.url + "/v1/vidu-q1-reference-to-video", json=body(seed=9), headers=headers)
    assert sync.status_code == 200 and sync.content[4:8] == b"ftyp"  # the bytes, not a redirect
    assert not list((server.settings.home / "scratch").rglob("*.mp4"))  # nothing kept locally

    later = utcnow() + timedelta(hours=25)
    assert job_id in expire_results(server.state.db, server.settings, later)
    assert s3.keys(f"results/{job_id}/") == []
    assert expire_results(server.state.db, server.settings, later) == []  # done once
    gone = requests.get(sub["video_url"], headers=headers, allow_redirects=False)
    assert gone.status_code == 410
