"""The PostgreSQL queue: claims per second, wake-up latency, and render throughput with 1 vs 2 workers.

Run: .venv/bin/python benchmarks/job_queue.py [--claimers 4] [--jobs 400] [--wakeups 40] [--renders 4]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); makes and drops its own databases.
1. Claims per second: ``--jobs`` queued jobs drained by 1 and by ``--claimers`` processes
   (each claims with the one-statement ``FOR UPDATE SKIP LOCKED`` claim and completes at once).
2. Wake-up latency, submit to claim, with ``--claimers`` idle processes: sleeping on LISTEN
   (what ``refvid worker`` does) vs polling every 50 ms (REFVID_POLL_INTERVAL's default), median.
3. End to end: ``--renders`` tiny renders (1:1, 5 s) through ``refvid worker --slots 1`` and
   ``--slots 2``; the throughput ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select

from refvid import migrations
from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Status
from refvid.jobs.notify import QUEUE, Listener
from refvid.request import GenerationRequest

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
OUTCOME = lifecycle.Outcome(
    seed=1, width=64, height=64, frame_count=1, duration=1.0, video_bytes=1, generation_seconds=0.0
)


def _image() -> str:
    import base64
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _database() -> tuple[str, Any]:
    import psycopg

    admin = psycopg.connect(ADMIN, autocommit=True)
    name = f"refvid_bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    return url, (admin, name)


def _drop(handle: Any) -> None:
    admin, name = handle
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def _db(url: str, home: str) -> Database:
    return open_db(Settings(home=Path(home), database_url=url))


def _submit(db: Database, key_id: int, n: int, request_json: str, request: GenerationRequest) -> str:
    return store.submit(
        db, key_id=key_id, request=request, body_hash=f"b{n}", cost=0, max_queue=1_000_000,
        request_json=request_json,
    ).job.id


def _drain(url: str, home: str, name: str, start: Event, ready: Any) -> None:
    """Claim and complete until the queue is empty."""
    db = _db(url, home)
    with db.read() as session:  # connected
        session.execute(select(1))
    ready.put(name)
    start.wait()
    while (job := lifecycle.claim(db, name)) is not None:
        lifecycle.complete(db, job.id, name, OUTCOME, 60, fence=job.fence, result_key=f"{job.id}/{job.fence}")
    db.dispose()


def claims_per_second(url: str, home: str, processes: int, jobs: int) -> float:
    db = _db(url, home)
    key = create_key(db, "bench", 0)
    request = GenerationRequest(prompt="x", image_urls=[_image()], aspect_ratio="1:1", seed=1)
    text = request.model_dump_json()
    for n in range(jobs):
        _submit(db, key.id, n, text, request)
    ctx = mp.get_context("spawn")
    start, ready = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_drain, args=(url, home, f"c{n}", start, ready)) for n in range(processes)]
    for proc in procs:
        proc.start()
    for _ in procs:  # every process imported and connected
        ready.get(timeout=120)
    began = time.perf_counter()
    start.set()
    for proc in procs:
        proc.join()
    seconds = time.perf_counter() - began
    assert store.queued_count(db) == 0
    db.dispose()
    return jobs / seconds


def _idle_claimer(url: str, home: str, name: str, listen: bool, out: Any, stop: Event) -> None:
    """An idle worker: claim; when there is nothing, sleep on LISTEN (or poll every 50 ms)."""
    db = _db(url, home)
    listener = Listener(db.engine, (QUEUE,)) if listen else None
    if listener is not None:
        listener.wait(0.01)
    out.put(("ready", time.time()))
    while not stop.is_set():
        job = lifecycle.claim(db, name)
        if job is None:
            if listener is not None:
                listener.wait(1.0)
            else:
                time.sleep(0.05)
            continue
        out.put((job.id, time.time()))
        lifecycle.complete(db, job.id, name, OUTCOME, 60, fence=job.fence, result_key=job.id)
    db.dispose()


def wakeup_latency(url: str, home: str, processes: int, count: int, listen: bool) -> float:
    db = _db(url, home)
    key = create_key(db, "bench", 0)
    request = GenerationRequest(prompt="x", image_urls=[_image()], aspect_ratio="1:1", seed=1)
    text = request.model_dump_json()
    ctx = mp.get_context("spawn")
    out, stop = ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_idle_claimer, args=(url, home, f"i{n}", listen, out, stop))
        for n in range(processes)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:  # every process imported, connected and (with LISTEN) listening
        assert out.get(timeout=120)[0] == "ready"
    submitted: dict[str, float] = {}
    for n in range(count):
        job_id = _submit(db, key.id, n, text, request)
        submitted[job_id] = time.time()  # committed
        time.sleep(0.25)
    claimed: dict[str, float] = {}
    while len(claimed) < count:
        job_id, at = out.get(timeout=30)
        claimed[job_id] = at
    stop.set()
    for proc in procs:
        proc.join(timeout=10)
    db.dispose()
    return statistics.median(claimed[j] - submitted[j] for j in submitted) * 1000


def render_throughput(url: str, home: str, slots: int, renders: int) -> float:
    """Renders per minute through ``refvid worker --slots N``."""
    db = _db(url, home)
    key = create_key(db, "bench", 10_000_000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFVID_")}
    env.update(
        REFVID_HOME=str(Path(home) / f"worker{slots}"), REFVID_DATABASE_URL=url,
        REFVID_RESULTS_URL=str(Path(home) / "results"), CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(ROOT),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "refvid.cli", "worker", "--slots", str(slots)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(8.0)  # processes up, engine imported
        began = time.perf_counter()
        ids = []
        for n in range(renders):
            request = GenerationRequest(prompt="a scene", image_urls=[_image()], aspect_ratio="1:1", seed=n + 1)
            ids.append(
                store.submit(db, key_id=key.id, request=request, body_hash=f"r{n}", cost=1, max_queue=100).job.id
            )
        while True:
            jobs = [store.get_job(db, job_id) for job_id in ids]
            if all(job is not None and job.status not in (Status.QUEUED, Status.PROCESSING) for job in jobs):
                break
            time.sleep(0.1)
        assert all(job is not None and job.status == Status.COMPLETED for job in jobs)
        seconds = time.perf_counter() - began
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        db.dispose()
    return renders / seconds * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--wakeups", type=int, default=40)
    parser.add_argument("--renders", type=int, default=4)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as home:
        for processes in (1, args.claimers):
            url, handle = _database()
            try:
                rate = claims_per_second(url, home, processes, args.jobs)
            finally:
                _drop(handle)
            print(f"claims/s, {processes} claimer(s), {args.jobs} jobs: {rate:.0f}")
        for listen in (True, False):
            url, handle = _database()
            try:
                median = wakeup_latency(url, home, args.claimers, args.wakeups, listen)
            finally:
                _drop(handle)
            how = "LISTEN/NOTIFY" if listen else "polling every 50 ms"
            print(f"median wake-up (submit committed -> claimed), {args.claimers} idle workers, {how}: {median:.1f} ms")
        rates = {}
        for slots in (1, 2) if args.renders else ():
            url, handle = _database()
            try:
                rates[slots] = render_throughput(url, home, slots, args.renders)
            finally:
                _drop(handle)
            print(f"renders/min with refvid worker --slots {slots}: {rates[slots]:.1f}")
        if rates:
            print(f"throughput 2 vs 1 workers: {rates[2] / rates[1]:.2f}x")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
