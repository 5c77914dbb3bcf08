"""Nothing lost: a worker killed mid-render, and a server restarted with queued jobs."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
import requests

from refvid.billing import balance_of
from refvid.billing.ledger import entries_for
from refvid.jobs import lifecycle
from refvid.jobs.store import get_job

from .live import LiveServer, body, wait_status

pytestmark = pytest.mark.slow  # live server, real worker processes and renders: outside the fast lane (-m "not slow")

V2 = "/v2/vidu-q1-reference-to-video"
FINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def _ledger(server: LiveServer, job_id: str) -> list[str]:
    with server.state.db.read() as session:
        return [entry.kind for entry in entries_for(session, job_id)]


def test_worker_killed_mid_render_is_recovered(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_attempts=2)
    key, _, key_id = server.key("5")
    server.wait_workers()
    sub = requests.post(server.url + V2, json=body(), headers={"x-api-key": key}).json()  # 5 s: killed at 5 %
    job_id = sub["request_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = wait_status(server.url, key, job_id, {"PROCESSING"} | FINAL)
        if doc["status"] != "PROCESSING" or doc["progress"] > 0.05:
            break
        time.sleep(0.05)
    assert doc["status"] == "PROCESSING"
    job = get_job(server.state.db, job_id)
    assert job is not None and job.worker_id is not None
    os.kill(int(job.worker_id.rsplit(".", 1)[1]), signal.SIGKILL)

    final = wait_status(server.url, key, job_id, FINAL, timeout=90)
    assert final["status"] == "COMPLETED"
    assert final["attempts"] == 2  # re-queued once, then finished by the new worker
    assert _ledger(server, job_id) == ["charge"]
    assert balance_of(server.state.db, key_id) == 4000  # 5 credits, one charge of 1
    video = requests.get(sub["video_url"], headers={"x-api-key": key})
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"


def test_restart_with_queued_and_interrupted_jobs_completes_them(serve: Callable[..., LiveServer]) -> None:
    first = serve(workers=1)
    key, _, key_id = first.key("5")
    first.wait_workers()
    ids = [
        requests.post(first.url + V2, json=body(seed=s), headers={"x-api-key": key}).json()["request_id"]
        for s in (11, 12, 13)
    ]
    wait_status(first.url, key, ids[0], {"PROCESSING"})
    # The second was taken by a worker of an earlier run that crashed; the third just waits.
    claimed = lifecycle.claim(first.state.db, "gone.0.1.4242")
    assert claimed is not None and claimed.id == ids[1]
    first.stop()  # graceful: the render in progress goes back to the queue

    second = serve(workers=1)
    attempts = []
    for job_id in ids:
        doc = wait_status(second.url, key, job_id, FINAL, timeout=90)
        assert doc["status"] == "COMPLETED"
        attempts.append(doc["attempts"])
        assert _ledger(second, job_id) == ["charge"]
    assert attempts == [1, 2, 1]  # a shutdown is not an attempt; a crash is
    assert balance_of(second.state.db, key_id) == 2000
