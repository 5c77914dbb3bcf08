"""Rate buckets in the database: refill, refusal, and one limit shared by processes."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from refvid.api.ratelimit import RateLimiter, retry_after
from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import Database, open_db

NOW = 1_900_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(Settings(home=tmp_path / "home"))


def test_a_bucket_bursts_to_its_rate_then_refills(db: Database) -> None:
    key = create_key(db, "k").id
    clock = Clock()
    limiter = RateLimiter(db, "submit", 3, clock=clock)
    assert [limiter.acquire(key) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire(key) == pytest.approx(20.0)  # 3 a minute: a token every 20 s
    clock.now += 5
    assert limiter.acquire(key) == pytest.approx(15.0)  # a refusal takes nothing
    clock.now += 15
    assert limiter.acquire(key) == 0.0
    assert limiter.acquire(key) > 0
    clock.now += 3600  # refills up to the burst, never beyond
    assert [limiter.acquire(key) for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert limiter.acquire(key) > 0


def test_keys_and_scopes_have_their_own_buckets(db: Database) -> None:
    a, b = create_key(db, "a").id, create_key(db, "b").id
    clock = Clock()
    submits, plans = RateLimiter(db, "submit", 1, clock=clock), RateLimiter(db, "plan", 1, clock=clock)
    assert submits.acquire(a) == 0.0 and submits.acquire(a) > 0
    assert submits.acquire(b) == 0.0
    assert plans.acquire(a) == 0.0 and plans.acquire(a) > 0


def test_a_clock_stepping_back_refills_nothing(db: Database) -> None:
    key = create_key(db, "k").id
    clock = Clock()
    limiter = RateLimiter(db, "submit", 2, clock=clock)
    assert limiter.acquire(key) == 0.0 and limiter.acquire(key) == 0.0
    clock.now -= 1000
    assert limiter.acquire(key) == pytest.approx(30.0)


def _take(home: str, key_id: int, tries: int, start: mp.synchronize.Event, out: mp.Queue[int]) -> None:
    db = open_db(Settings(home=Path(home)))
    limiter = RateLimiter(db, "submit", 10, clock=lambda: NOW)
    start.wait()
    out.put(sum(1 for _ in range(tries) if limiter.acquire(key_id) == 0.0))


def test_processes_share_one_limit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = open_db(Settings(home=home))
    key = create_key(db, "k").id
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_take, args=(str(home), key, 8, start, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    start.set()
    taken = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert sum(taken) == 10, taken  # 24 tries from 3 processes, one bucket of 10


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == "1" and retry_after(20.0) == "20" and retry_after(20.1) == "21"
