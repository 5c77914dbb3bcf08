"""run_with_deadline: one wall-clock limit over a whole operation, and cancellation by its owner."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from refvid.errors import Cancelled
from refvid.net.deadline import blocking, run_with_deadline


async def _value() -> int:
    await asyncio.sleep(0.01)
    return 42


def test_a_finished_operation_returns_its_value() -> None:
    assert run_with_deadline(_value, 5) == 42


def test_the_deadline_stops_an_operation_wherever_it_waits() -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run_with_deadline(lambda: asyncio.sleep(30), 0.3)
    assert time.monotonic() - started < 2


def test_a_hanging_blocking_call_does_not_outlive_the_deadline() -> None:
    # A resolver that hangs runs on the shared pool: asyncio.run must not wait for it.
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run_with_deadline(lambda: blocking(release.wait, 30), 0.3)
    assert time.monotonic() - started < 2
    release.set()


def test_the_owner_cancelling_stops_the_operation() -> None:
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_with_deadline(lambda: asyncio.sleep(30), 30, cancelled=flag.is_set, poll=0.05)
    assert time.monotonic() - started < 2


def test_cancellation_is_not_reported_when_the_owner_never_cancels() -> None:
    assert run_with_deadline(_value, 5, cancelled=lambda: False, poll=0.001) == 42


def test_it_also_runs_from_a_thread_whose_event_loop_is_running() -> None:
    # e.g. async code calling the blocking fetcher, or a library that keeps a loop open
    async def caller() -> int:
        return run_with_deadline(_value, 5)

    with ThreadPoolExecutor(1) as own:  # a fresh thread, whatever loop the test's thread has
        assert own.submit(asyncio.run, caller()).result() == 42
