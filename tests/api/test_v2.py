"""v2 over the wire: submit, SSE until done, result, downloads, expiry, idempotency, cancel, list."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from refvid.billing import balance_of
from refvid.db import utcnow
from refvid.jobs.supervisor import expire_results
from refvid.media.probe import probe

from .live import LiveServer, body

pytestmark = pytest.mark.slow  # live server and renders: outside the fast lane (-m "not slow")

V2 = "/v2/vidu-q1-reference-to-video"


def _events(response: requests.Response) -> list[dict[str, Any]]:
    events, data = [], []
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and data:
            events.append(json.loads("\n".join(data)))
            data = []
    return events


def test_submit_stream_result_download_then_expire(serve: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = serve()
    key, _, key_id = server.key("3")
    headers = {"x-api-key": key}
    response = requests.post(server.url + V2, json=body(payload={"order": 42}), headers=headers)
    assert response.status_code == 202
    sub = response.json()
    assert sub["status"] == "QUEUED" and sub["queue_position"] == 1
    assert sub["remaining_credits"] == "2" and sub["cost"] == "1"
    assert sub["request_id"] == response.headers["x-request-id"]
    # The hosted queue's three fields, as the Segmind SDK reads them.
    assert sub["response_url"] == sub["result_url"] and sub["status_url"].endswith("/status")

    with requests.get(sub["stream_url"], headers=headers, stream=True, timeout=60) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events(stream)
    statuses = [e["status"] for e in events]
    assert statuses[0] == "QUEUED" and statuses[-1] == "COMPLETED"
    assert "PROCESSING" in statuses
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0

    result = requests.get(sub["result_url"], headers=headers).json()
    assert result["status"] == "COMPLETED" and result["seed"] == 7
    assert (result["width"], result["height"], result["duration"]) == (1080, 1080, 5.0)
    assert result["payload"] == {"order": 42}
    assert result["cost"] == "1" and result["remaining_credits"] == "2"
    assert result["timings"]["generation_seconds"] > 0
    metrics = result["metrics"]
    assert metrics["cost"] == 1 and metrics["remaining_credits"] == 2
    assert metrics["inference_time"] == result["timings"]["generation_seconds"]
    assert 0 <= metrics["queue_time"] <= metrics["total_time"]
    status = requests.get(sub["status_url"], headers=headers).json()
    assert status["metrics"] == metrics and "output" not in status
    # output is the video's URL, signed: it downloads without the key (as the gateway's does).
    assert result["output"].startswith(result["video_url"] + "?token=")
    assert requests.get(result["output"]).content == requests.get(result["video_url"], headers=headers).content
    assert requests.get(result["video_url"]).status_code == 401
    forged = result["output"][:-4] + ("0000" if not result["output"].endswith("0000") else "1111")
    assert requests.get(forged).status_code == 404
    cover_link = result["output"].replace("/video?", "/cover?")
    assert requests.get(cover_link).status_code == 404  # a token is for one file only

    video = requests.get(result["video_url"], headers=headers)
    assert video.headers["content-type"] == "video/mp4"
    (tmp_path / "v.mp4").write_bytes(video.content)
    assert probe(tmp_path / "v.mp4").frame_count == 120
    assert result["video_bytes"] == len(video.content)
    cover = requests.get(result["cover_url"], headers=headers)
    assert cover.headers["content-type"] == "image/jpeg" and cover.content[:2] == b"\xff\xd8"

    # Past the retention time the files are deleted and every result URL answers 410.
    assert expire_results(server.state.db, server.settings, utcnow() + timedelta(hours=25))
    assert not (server.settings.results_dir / sub["request_id"]).exists()
    for url in (sub["result_url"], result["video_url"], result["cover_url"], result["output"]):
        gone = requests.get(url, headers=headers)
        assert gone.status_code == 410 and gone.json()["code"] == "expired"
    assert balance_of(server.state.db, key_id) == 2000


def test_idempotency_key_replays_and_conflicts(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, key_id = server.key("10")
    headers = {"x-api-key": key, "Idempotency-Key": "order-1"}
    first = requests.post(server.url + V2, json=body(), headers=headers)
    again = requests.post(server.url + V2, json=body(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["request_id"] == again.json()["request_id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert balance_of(server.state.db, key_id) == 9000  # charged once
    conflict = requests.post(server.url + V2, json=body(seed=8), headers=headers)
    assert conflict.status_code == 409
    assert "different body" in conflict.json()["error"]
    other, _, _ = server.key("10", name="other")  # keys are per API key
    third = requests.post(server.url + V2, json=body(), headers={**headers, "x-api-key": other})
    assert third.json()["request_id"] != first.json()["request_id"]


def test_cancel_refunds_once_and_then_conflicts(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, key_id = server.key("2")
    headers = {"x-api-key": key}
    sub = requests.post(server.url + V2, json=body(duration=10), headers=headers).json()
    assert balance_of(server.state.db, key_id) == 0
    cancelled = requests.post(sub["cancel_url"], headers=headers)
    assert cancelled.status_code == 200
    doc = cancelled.json()
    assert doc["status"] == "CANCELLED" and doc["refunded"] == "2" and doc["remaining_credits"] == "2"
    again = requests.post(sub["cancel_url"], headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "already_final"
    assert balance_of(server.state.db, key_id) == 2000
    video = requests.get(sub["video_url"], headers=headers)
    assert video.status_code == 409 and video.json()["code"] == "not_ready"
    # A cancelled request answers 409 on its status and result URLs, so a client that only
    # knows COMPLETED and FAILED as final (the Segmind SDK) stops waiting too.
    answer = requests.get(sub["result_url"], headers=headers)
    result = answer.json()
    assert answer.status_code == 409 and result["status"] == "CANCELLED"
    assert result["refunded"] is True and result["video_url"] is None and result["output"] is None
    assert result["code"] == "cancelled" and "cancelled by the client" in result["error"]
    assert result["metrics"]["cost"] == 0 and result["metrics"]["remaining_credits"] == 2
    status = requests.get(sub["status_url"], headers=headers)
    assert status.status_code == 409 and status.json()["status"] == "CANCELLED"


def test_list_is_own_newest_first_and_paged(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    key, _, _ = server.key("10")
    other, _, _ = server.key("10", name="other")
    ids = [
        requests.post(server.url + V2, json=body(seed=s), headers={"x-api-key": key}).json()["request_id"]
        for s in (1, 2, 3)
    ]
    page = requests.get(server.url + "/v2/requests?limit=2", headers={"x-api-key": key}).json()
    assert [d["request_id"] for d in page["data"]] == ids[::-1][:2]
    rest = requests.get(
        server.url + f"/v2/requests?limit=2&before={page['next_before']}", headers={"x-api-key": key}
    ).json()
    assert [d["request_id"] for d in rest["data"]] == ids[:1] and rest["next_before"] is None
    assert requests.get(server.url + "/v2/requests", headers={"x-api-key": other}).json()["data"] == []
    # Another key cannot see, fetch or cancel these requests.
    for method, suffix in (("get", "/status"), ("get", ""), ("post", "/cancel"), ("get", "/video")):
        response = requests.request(method, f"{server.url}/v2/requests/{ids[0]}{suffix}", headers={"x-api-key": other})
        assert response.status_code == 404
    bad = requests.get(server.url + "/v2/requests?limit=1000", headers={"x-api-key": key})
    assert bad.status_code == 422 and "limit" in bad.json()["error"]


def test_health_ready_metrics_and_openapi(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    assert requests.get(server.url + "/healthz").json() == {"status": "ok"}
    assert requests.get(server.url + "/readyz").status_code == 200
    key, _, _ = server.key("10")
    requests.post(server.url + V2, json=body(), headers={"x-api-key": key})
    metrics = requests.get(server.url + "/metrics").text
    assert "refvid_queue_depth 1.0" in metrics
    assert 'refvid_submits_total{api="v2"} 1.0' in metrics
    assert "refvid_http_request_seconds_bucket" in metrics
    # /docs itself is tested in a real browser (test_docs.py).
    spec = requests.get(server.url + "/openapi.json").json()
    assert "/v1/vidu-q1-reference-to-video" in spec["paths"]
    schema = spec["paths"]["/v2/vidu-q1-reference-to-video"]["post"]["requestBody"]["content"]
    assert "webhook_url" in json.dumps(schema)
