"""v1 over the wire: a hosted-style client gets a playable MP4; disconnect and timeout."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from refvid.billing import balance_of
from refvid.media.probe import probe

from .live import LiveServer, body, wait_status

pytestmark = pytest.mark.slow  # live server and full-size renders: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"


def test_hosted_style_client_gets_a_playable_mp4(serve: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = serve()
    key, _, key_id = server.key("5")
    server.wait_workers()
    # Exactly what a client of the hosted endpoint does, with only the base URL changed.
    data = body(seed=0)
    response = requests.post(server.url + V1, json=data, headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    out = tmp_path / "out.mp4"
    out.write_bytes(response.content)

    info = probe(out)
    assert (info.width, info.height, info.frame_count, info.fps) == (1080, 1080, 120, 24)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.faststart
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["x-cost"] == "1"
    assert response.headers["x-remaining-credits"] == "4"
    seed = int(response.headers["x-seed-value"])
    assert 1 <= seed <= 999_999  # seed 0 was replaced and reported
    assert float(response.headers["x-generation-time"]) > 0
    request_id = response.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert balance_of(server.state.db, key_id) == 4000

    # The same request with the reported seed reproduces the same bytes.
    again = requests.post(server.url + V1, json=body(seed=seed), headers={"x-api-key": key})
    assert again.status_code == 200
    assert again.content == response.content
    assert again.headers["x-request-id"] != request_id


def test_client_disconnect_cancels_and_refunds(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    key, _, key_id = server.key("5")
    server.wait_workers()
    payload = json.dumps(body(duration=10)).encode()
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    sock.sendall(
        b"POST " + V1.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"x-api-key: {key}\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload
    )
    deadline = time.monotonic() + 30
    while balance_of(server.state.db, key_id) == 5000 and time.monotonic() < deadline:
        time.sleep(0.02)  # wait until accepted (charged)
    assert balance_of(server.state.db, key_id) == 3000
    from refvid.jobs.store import list_jobs

    (job,) = list_jobs(server.state.db, key_id, limit=5)
    wait_status(server.url, key, job.id, {"PROCESSING"})
    sock.close()  # the client gives up
    doc = wait_status(server.url, key, job.id, {"CANCELLED", "COMPLETED", "FAILED"})
    assert doc["status"] == "CANCELLED"
    assert "disconnected" in doc["error"] and doc["code"] == "cancelled"
    assert balance_of(server.state.db, key_id) == 5000
    assert not (server.settings.results_dir / job.id / "video.mp4").exists()


def test_wait_limit_answers_504_with_the_request_id(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, sync_timeout=0.3)
    key, _, _ = server.key("5")
    response = requests.post(server.url + V1, json=body(), headers={"x-api-key": key})
    assert response.status_code == 504
    error = response.json()
    assert error["code"] == "timeout"
    request_id = error["request_id"]
    assert request_id == response.headers["x-request-id"]
    assert request_id in error["error"] and error["result_url"].endswith(request_id)
    # The request lives on and can be collected through v2.
    status = requests.get(error["status_url"], headers={"x-api-key": key}).json()
    assert status["status"] == "QUEUED"
