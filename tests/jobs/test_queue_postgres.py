"""The queue on PostgreSQL: claim order, pools, LISTEN/NOTIFY wake-ups, the queue bound, ``refvid worker``.

Skipped, with the reason, when no PostgreSQL answers on 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update

from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.jobs import lifecycle, nodes, store
from refvid.jobs.models import Job, Status
from refvid.jobs.notify import JOBS, QUEUE, Listener
from refvid.request import GenerationRequest

from ..pg import empty_pg_url as empty_pg_url
from ..pg import pg as pg
from ..pg import pg_url as pg_url
from .helpers import submit

ROOT = Path(__file__).resolve().parents[2]


def test_claims_take_priority_then_submit_order_within_their_pool(pg: Database) -> None:
    key = create_key(pg, "k", 10_000)
    first, second, urgent = (submit(pg, key.id, seed=n).job for n in (1, 2, 3))
    with pg.write.begin() as session:
        session.execute(update(Job).where(Job.id == urgent.id).values(priority=5))
    gpu = store.submit(
        pg, key_id=key.id, request=_request(), body_hash="g", cost=1000, max_queue=100, pool="gpu"
    ).job
    assert store.queue_position(pg, store.get_job(pg, second.id)) == 3  # type: ignore[arg-type]
    order = [lifecycle.claim(pg, f"w{n}") for n in range(4)]
    assert [job.id if job else None for job in order] == [urgent.id, first.id, second.id, None]
    claimed = lifecycle.claim(pg, "g1", pool="gpu")
    assert claimed is not None and claimed.id == gpu.id and claimed.pool == "gpu"


def _request() -> GenerationRequest:
    from ..api.live import image_b64

    return GenerationRequest(prompt="x", image_urls=[image_b64()], aspect_ratio="1:1", seed=4)


def test_a_queued_job_wakes_a_listener(pg: Database) -> None:
    listener = Listener(pg.engine, (QUEUE, JOBS))
    try:
        assert listener.wait(0.05) == []  # connects and listens
        threading.Timer(0.2, lambda: submit(pg)).start()
        got: list[str] = []
        deadline = time.monotonic() + 10
        while "default" not in got and time.monotonic() < deadline:
            got += listener.wait(1.0)
        assert "default" in got
        job = lifecycle.claim(pg, "w1")
        assert job is not None
        deadline = time.monotonic() + 10
        while job.id not in got and time.monotonic() < deadline:
            got += listener.wait(1.0)
        assert job.id in got  # the claim announced the job's change
    finally:
        listener.close()


def test_the_queue_bound_holds_under_concurrent_submits(pg: Database) -> None:
    key = create_key(pg, "k", 100_000)

    def attempt(n: int) -> bool:
        try:
            submit(pg, key.id, seed=n + 1, max_queue=5)
        except store.QueueFull:
            return False
        return True

    with ThreadPoolExecutor(max_workers=12) as pool:
        accepted = list(pool.map(attempt, range(30)))
    assert accepted.count(True) == 5
    assert store.queued_count(pg) == 5


@pytest.mark.slow
def test_refvid_worker_renders_from_its_pool_and_registers(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "api", database_url=pg_url, results_url=str(tmp_path / "results"))
    db = open_db(settings)
    key = create_key(db, "k", 10_000)
    job = store.submit(db, key_id=key.id, request=_request(), body_hash="b", cost=1000, max_queue=10, pool="gpu").job
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFVID_")}
    env.update(
        REFVID_HOME=str(tmp_path / "worker"), REFVID_DATABASE_URL=pg_url,
        REFVID_RESULTS_URL=str(tmp_path / "results"), CUDA_VISIBLE_DEVICES="",
        PYTHONPATH=str(ROOT),
    )
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "refvid.cli", "worker", "--slots", "1", "--pool", "gpu"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = store.get_job(db, job.id)
            if done is not None and done.status not in (Status.QUEUED, Status.PROCESSING):
                break
            time.sleep(0.2)
        assert done is not None and done.status == Status.COMPLETED, (tmp_path / "worker.log").read_text()[-2000:]
        assert (tmp_path / "results" / f"{job.id}/1" / "video.mp4").is_file()
        (node,) = nodes.listing(db, stale_seconds=120)
        assert node.kind == "worker" and node.pool == "gpu" and node.slots == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log.close()
    assert nodes.listing(db, stale_seconds=120) == []  # a clean stop leaves the registry
    db.dispose()


def test_job_events_wake_waiters_of_that_job_only(pg: Database) -> None:
    import asyncio

    from refvid.jobs.notify import JobEvents

    first, second = submit(pg, seed=1).job, submit(pg, seed=2).job

    async def scenario() -> tuple[bool, bool]:
        events = JobEvents(pg.engine, fallback=30.0)
        events.start()
        try:
            await asyncio.sleep(0.5)  # listening
            waiting = asyncio.gather(events.wait(first.id, 0.1), events.wait(first.id, 0.1))
            other = asyncio.create_task(events.wait(second.id, 0.1))
            await asyncio.sleep(0.1)
            await asyncio.to_thread(lifecycle.cancel, pg, first.id, reason="x", ttl=60)
            woken = await waiting
            await asyncio.sleep(0.3)
            pending = not other.done()
            other.cancel()
            return all(woken), pending
        finally:
            events.stop()

    woken, other_still_waiting = asyncio.run(scenario())
    assert woken and other_still_waiting
