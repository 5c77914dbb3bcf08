"""The documents the read routes answer, byte for byte, for a request in every state.

``golden/read_documents.json`` was recorded from the server before the read path was
rewritten for throughput (issue 12): status, result and list documents (and their HTTP
status codes) of requests QUEUED (with queue positions), PROCESSING (with progress),
COMPLETED (with webhook attempts), FAILED, CANCELLED and EXPIRED. Every field is fixed in
the database, so any change in what a client reads shows up here.

Regenerate only on purpose: ``REFVID_UPDATE_GOLDEN=1 pytest tests/api/test_read_documents.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from refvid.billing.models import ApiKey
from refvid.jobs.models import Job, Status, WebhookAttempt, WebhookState

from .live import LiveServer

pytestmark = pytest.mark.slow  # the live-server test below; its rows are shared with test_reads.py

GOLDEN = Path(__file__).parent / "golden" / "read_documents.json"
PUBLIC = "http://refvid.test"
T0 = datetime(2031, 3, 4, 5, 6, 7, 123000)  # after "now": nothing expires or is purged
LATER = datetime(2031, 5, 1)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _job(job_id: str, key_id: int, created: float, **values: Any) -> Job:
    base: dict[str, Any] = {
        "id": job_id, "key_id": key_id, "status": Status.QUEUED, "request_json": "{}",
        "body_hash": "h" + job_id, "cost": 1000, "seed": 4242, "base_url": PUBLIC + "/",
        "created_at": _at(created),
    }
    return Job(**{**base, **values})


def _finished(started: float, finished: float) -> dict[str, Any]:
    return {
        "started_at": _at(started), "finished_at": _at(finished), "expires_at": LATER,
        "attempts": 1, "worker_id": "w.1",
    }


def jobs_in_every_state(key_id: int) -> list[Job | WebhookAttempt]:
    """Rows for one key: three queued, one rendering, and one in each final state."""
    completed = {
        **_finished(2.5, 9.75), "status": Status.COMPLETED, "progress": 1.0, "seed": 31337,
        "width": 1080, "height": 1080, "frame_count": 120, "duration": 5.0,
        "video_bytes": 123456, "generation_seconds": 7.125,
        "webhook_url": "https://hooks.example.com/done", "payload_json": '{"order": 17}',
        "webhook_state": WebhookState.DELIVERED,
    }
    return [
        _job("req_queued_a", key_id, 10),
        _job("req_queued_b", key_id, 11, webhook_url="https://hooks.example.com/q"),
        _job("req_queued_c", key_id, 11, payload_json='["x"]'),  # same instant: the id breaks the tie
        _job(
            "req_processing", key_id, 5, status=Status.PROCESSING, progress=0.432198,
            started_at=_at(6), attempts=2, worker_id="w.2", heartbeat_at=LATER,
        ),
        _job("req_completed", key_id, 1, **completed),
        WebhookAttempt(job_id="req_completed", attempt=1, at=_at(10), status_code=500, ok=False,
                       error="the endpoint answered 500"),
        WebhookAttempt(job_id="req_completed", attempt=2, at=_at(20), status_code=200, ok=True),
        _job(
            "req_failed", key_id, 2, **_finished(3, 4.5), status=Status.FAILED, progress=0.25,
            error_status=400, error_code="invalid_reference",
            error_message="image_urls[1]: the download answered 404",
            webhook_url="https://hooks.example.com/f", webhook_state=WebhookState.PENDING,
            webhook_next_at=LATER,
        ),
        _job(
            "req_cancelled", key_id, 3, status=Status.CANCELLED, finished_at=_at(3.25),
            expires_at=LATER, error_status=499, error_code="cancelled",
            error_message="cancelled by the client", webhook_url="https://hooks.example.com/c",
            webhook_state=WebhookState.SKIPPED,
        ),
        _job(
            "req_expired", key_id, 0, **{
                **_finished(0.5, 1.5), "status": Status.COMPLETED, "progress": 1.0, "width": 1920,
                "height": 1080, "frame_count": 240, "duration": 10.0, "video_bytes": 999,
                "generation_seconds": 0.875, "expired": True, "expires_at": _at(2),
            },
        ),
    ]


def _seed(server: LiveServer) -> tuple[str, str]:
    key, _secret, key_id = server.key("123.456", name="golden")
    other, _, other_id = server.key("5", name="other")
    with server.state.db.write.begin() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(webhook_secret="whsec_golden"))
        session.add_all(jobs_in_every_state(key_id))
        session.add(_job("req_someone_else", other_id, 4))
    return key, other


def _get(server: LiveServer, key: str, path: str) -> dict[str, Any]:
    response = requests.get(server.url + path, headers={"x-api-key": key}, timeout=30)
    # The text too: parsed JSON would hide a float written as 1 instead of 1.0, or keys reordered.
    # An error names this HTTP request's own (random) id: that one is replaced.
    text = response.text.replace(response.headers["x-request-id"], "<x-request-id>")
    return {"http": response.status_code, "body": json.loads(text), "text": text}


def read_all(server: LiveServer, key: str) -> dict[str, Any]:
    """Every read document of the seeded requests, keyed by route."""
    ids = [row.id for row in jobs_in_every_state(0) if isinstance(row, Job)]
    docs: dict[str, Any] = {}
    for job_id in ids:
        docs[f"status {job_id}"] = _get(server, key, f"/v2/requests/{job_id}/status")
        docs[f"result {job_id}"] = _get(server, key, f"/v2/requests/{job_id}")
    docs["list"] = _get(server, key, "/v2/requests")
    first = _get(server, key, "/v2/requests?limit=3")
    docs["list limit=3"] = first
    docs["list limit=3 page 2"] = _get(
        server, key, f"/v2/requests?limit=3&before={first['body']['next_before']}"
    )
    return docs


def test_read_documents_match_the_recorded_ones(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, public_url=PUBLIC, purge_after=0)
    key, other = _seed(server)
    docs = read_all(server, key)
    if os.environ.get("REFVID_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(docs, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert docs.keys() == expected.keys()
    for name, doc in docs.items():
        assert doc == expected[name], name
    # Another key sees none of them, and its own list holds only its own request.
    missing = _get(server, other, "/v2/requests/req_completed/status")
    assert missing["http"] == 404 and missing["body"]["code"] == "not_found"
    listed = _get(server, other, "/v2/requests")["body"]["data"]
    assert [item["request_id"] for item in listed] == ["req_someone_else"]
