"""What the server keeps on disk: private modes, payloads and rows that go away, a bounded WAL."""

from __future__ import annotations

import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import undefer

from refvid.billing.models import LedgerEntry
from refvid.jobs import supervisor
from refvid.jobs.models import Job

from .live import LiveServer, body

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")

V1 = "/v1/vidu-q1-reference-to-video"
V2 = "/v2/vidu-q1-reference-to-video"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_private(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    key, _, _ = server.key("3")
    response = requests.post(server.url + V1, json=body(), headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    home = server.settings.home
    job_dir = server.settings.results_dir / response.headers["x-request-id"] / "1"  # attempt 1
    for folder in (home, server.settings.results_dir, job_dir.parent, job_dir):
        assert _mode(folder) == 0o700, folder
    for name in ("refvid.db", "refvid.db-wal", "refvid.db-shm"):
        assert _mode(home / name) == 0o600, name
    for name in ("video.mp4", "cover.jpg"):
        assert _mode(job_dir / name) == 0o600, name


def test_payloads_and_old_rows_are_gone_after_expiry(
    serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "PURGE_SECONDS", 0.1)
    server = serve(workers=0, result_ttl=0.5, purge_after=2.0)
    key, _, key_id = server.key("3")
    headers = {"x-api-key": key}
    sub = requests.post(server.url + V2, json=body(payload={"blob": "x" * 60_000}), headers=headers).json()
    requests.post(sub["cancel_url"], headers=headers).raise_for_status()
    db = server.state.db

    def row() -> Job | None:
        with db.read() as session:
            return session.get(Job, sub["request_id"], options=[undefer(Job.request_json)])

    _until(lambda: (job := row()) is not None and job.expired)
    job = row()
    assert job is not None and job.payload_json is None and job.request_json == "{}"
    assert requests.get(sub["result_url"], headers=headers).status_code == 410
    _until(lambda: row() is None, timeout=15)
    assert requests.get(sub["status_url"], headers=headers).status_code == 404
    with db.read() as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.key_id == key_id)).all()
    assert [e.kind for e in entries] == ["grant"]  # the charge and its refund are gone too


def test_the_write_ahead_log_is_cut_back(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, wal_max_bytes=1024 * 1024)
    key, _, _ = server.key("100")
    path = server.settings.home / "refvid.db"
    wal = path.with_name("refvid.db-wal")
    # A reader holding an old snapshot stops every checkpoint from resetting the log: it grows.
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM jobs").fetchone()
    for n in range(40):
        requests.post(
            server.url + V2, json=body(seed=n + 1, payload={"blob": "y" * 60_000}), headers={"x-api-key": key}
        ).raise_for_status()
    grown = wal.stat().st_size
    reader.rollback()
    reader.close()
    _until(lambda: wal.stat().st_size <= 1024 * 1024, timeout=10)
    print(f"WAL grew to {grown / 1024 / 1024:.1f} MiB behind a reader, then cut to {wal.stat().st_size} bytes")
    assert grown > 2 * 1024 * 1024


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
