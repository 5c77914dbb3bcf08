"""Per-attempt results and fenced completion: a worker that lost its job touches nothing but its own.

The regression of issue 9: a worker stopped past its lease (SIGSTOP), another attempt
finishes the job, the first wakes up (SIGCONT) — the finished video must survive.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from refvid.billing.ledger import entries_for
from refvid.db import Database, db_now
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Job, Status
from refvid.storage import LocalStorage

from ..api.live import LiveServer, body, wait_status
from ..api.live import serve as serve
from .helpers import submit
from .test_lifecycle import OUTCOME

V2 = "/v2/vidu-q1-reference-to-video"


def _expire_leases(db: Database) -> None:
    """Let every lease run out now, as if its worker had been silent for too long."""
    with db.write.begin() as session:
        session.execute(
            Job.__table__.update().where(Job.status == Status.PROCESSING).values(lease_expires_at=db_now(-1))
        )


def test_only_the_current_attempt_completes_and_publishes_its_key(db: Database) -> None:
    job = submit(db).job
    first = lifecycle.claim(db, "a.0.1.1")
    assert first is not None and first.fence == 1
    _expire_leases(db)
    assert lifecycle.recover(
        db, dead_workers=set(), stale_before=None, max_attempts=3, ttl=60, expired_leases=True
    ) == [job.id]
    second = lifecycle.claim(db, "b.0.1.2")
    assert second is not None and second.fence == 2 and second.attempts == 2
    # The first attempt wakes up: no beat, no completion, no failure for it any more.
    assert not lifecycle.heartbeat(db, job.id, "a.0.1.1", 0.5, fence=1)
    assert not lifecycle.complete(db, job.id, "a.0.1.1", OUTCOME, 60, fence=1, result_key=f"{job.id}/1")
    assert not lifecycle.fail(db, job.id, http_status=500, code="x", message="x", ttl=60, worker_id="a.0.1.1", fence=1)
    # Even the same worker id cannot complete an attempt that is not the current one.
    assert not lifecycle.complete(db, job.id, "b.0.1.2", OUTCOME, 60, fence=1, result_key=f"{job.id}/1")
    assert lifecycle.complete(db, job.id, "b.0.1.2", OUTCOME, 60, fence=2, result_key=f"{job.id}/2")
    done = store.get_job(db, job.id)
    assert done is not None and done.status == Status.COMPLETED and done.result_key == f"{job.id}/2"


def test_a_fresh_lease_is_not_recovered(db: Database) -> None:
    submit(db)
    assert lifecycle.claim(db, "a.0.1.1", lease=60) is not None
    assert lifecycle.recover(
        db, dead_workers=set(), stale_before=None, max_attempts=3, ttl=60, expired_leases=True
    ) == []


def test_a_loser_deletes_only_its_own_prefix(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "results")
    for fence in (1, 2):
        (storage.attempt_dir(f"req_x/{fence}") / "video.mp4").write_bytes(b"v%d" % fence)
    storage.discard("req_x/1")
    assert storage.read("req_x/2", "video.mp4") == b"v2"
    assert storage.read("req_x/1", "video.mp4") is None
    storage.discard("req_x/2")
    assert not (tmp_path / "results" / "req_x").exists()  # no empty job folder is left
    storage.delete_job("req_x")  # nothing left: no error


def _pid(worker_id: str) -> int:
    return int(worker_id.rsplit(".", 1)[1])


@pytest.mark.slow
def test_a_worker_stopped_past_its_lease_cannot_delete_the_next_attempts_video(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(workers=2, worker_stale_seconds=2.0, max_attempts=3)
    key, _, _ = server.key("5")
    server.wait_workers(2)
    sub = requests.post(server.url + V2, json=body(), headers={"x-api-key": key}).json()  # 5 s: stopped at 2 %
    job_id = sub["request_id"]
    db = server.state.db
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = wait_status(server.url, key, job_id, {"PROCESSING", "COMPLETED"})
        if doc["status"] != "PROCESSING" or doc["progress"] > 0.02:
            break
        time.sleep(0.05)
    assert doc["status"] == "PROCESSING"
    first = store.get_job(db, job_id)
    assert first is not None and first.worker_id is not None and first.fence == 1
    stopped = _pid(first.worker_id)
    os.kill(stopped, signal.SIGSTOP)
    try:
        final = wait_status(server.url, key, job_id, {"COMPLETED", "FAILED", "CANCELLED"}, timeout=120)
        assert final["status"] == "COMPLETED" and final["attempts"] == 2
        results = server.settings.results_dir
        assert (results / job_id / "1").is_dir()  # the stopped attempt's partial files
    finally:
        os.kill(stopped, signal.SIGCONT)
    # Awake, the first worker finds its lease gone and deletes its own attempt, and only that.
    deadline = time.monotonic() + 60
    while (results / job_id / "1").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not (results / job_id / "1").exists()
    with db.read() as session:
        job = session.scalar(select(Job).where(Job.id == job_id))
        kinds = [entry.kind for entry in entries_for(session, job_id)]
    assert job is not None and job.status == Status.COMPLETED and job.result_key == f"{job_id}/2"
    assert kinds == ["charge"]
    video = requests.get(sub["video_url"], headers={"x-api-key": key})
    assert video.status_code == 200
    assert video.content == (results / job_id / "2" / "video.mp4").read_bytes()
