"""The same store on PostgreSQL: races for credits and claims, refunds, and a full render.

Skipped when no PostgreSQL answers on 127.0.0.1:5432 (the project's machines run one).
Each test gets its own throw-away database.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from refvid.billing import balance_of, create_key
from refvid.db import Database
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Status

from ..api.live import LiveServer, body, make_settings, wait_status
from ..pg import empty_pg_url as empty_pg_url
from ..pg import pg as pg
from ..pg import pg_url as pg_url
from .helpers import submit


def test_concurrent_submits_never_overdraw(pg: Database) -> None:
    key = create_key(pg, "k", 10_000)

    def attempt(n: int) -> bool:
        try:
            submit(pg, key.id, seed=n + 1)
        except store.InsufficientCredits:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = list(pool.map(attempt, range(40)))
    assert accepted.count(True) == 10
    assert balance_of(pg, key.id) == 0

def test_each_job_is_claimed_once(pg: Database) -> None:
    key = create_key(pg, "k", 10_000)
    ids = {submit(pg, key.id, seed=n + 1).job.id for n in range(5)}
    with ThreadPoolExecutor(max_workers=10) as pool:
        claimed = list(pool.map(lambda n: lifecycle.claim(pg, f"w{n}"), range(10)))
    got = [job.id for job in claimed if job is not None]
    assert sorted(got) == sorted(ids)

def test_cancel_refunds_once_and_recovery_works(pg: Database) -> None:
    key = create_key(pg, "k", 2000)
    first, second = submit(pg, key.id, seed=1).job, submit(pg, key.id, seed=2).job
    assert lifecycle.cancel(pg, first.id, reason="x", ttl=60)
    assert not lifecycle.cancel(pg, first.id, reason="x", ttl=60)
    assert balance_of(pg, key.id) == 1000
    lifecycle.claim(pg, "dead")
    assert lifecycle.recover(pg, dead_workers={"dead"}, stale_before=None, max_attempts=1, ttl=60) == [second.id]
    failed = store.get_job(pg, second.id)
    assert failed is not None and failed.status == Status.FAILED
    assert balance_of(pg, key.id) == 2000
    with pytest.raises(store.IdempotencyConflict):
        submit(pg, key.id, seed=3, idempotency_key="a")
        submit(pg, key.id, seed=4, idempotency_key="a")

@pytest.mark.slow
def test_server_on_postgres_renders(pg_url: str, tmp_path: Path) -> None:
    server = LiveServer(make_settings(tmp_path / "home", database_url=pg_url)).start()
    try:
        key, _, _ = server.key("5")
        sub = requests.post(
            server.url + "/v2/vidu-q1-reference-to-video", json=body(), headers={"x-api-key": key}
        ).json()
        assert wait_status(server.url, key, sub["request_id"], {"COMPLETED", "FAILED"}, 90)["status"] == "COMPLETED"
        video = requests.get(sub["video_url"], headers={"x-api-key": key})
        assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    finally:
        server.stop()
        server.state.db.dispose()
