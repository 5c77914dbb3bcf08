"""Wake-ups through PostgreSQL's LISTEN/NOTIFY, with polling as the fallback (and on SQLite).

Two channels: ``refvid_queue`` (payload: the pool) when a job is queued, so idle workers
claim at once instead of on their next poll; ``refvid_jobs`` (payload: the job id) when a
job changes, so status streams and v1 waits in an API process wake up. A NOTIFY sent inside
a transaction is delivered at its commit, never for a rolled-back change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUE = "refvid_queue"
JOBS = "refvid_jobs"


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def send(session: Session, channel: str, payload: str) -> None:
    """NOTIFY ``channel`` when the session's transaction commits (PostgreSQL; a no-op elsewhere)."""
    if _postgres(session):
        session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})


def conninfo(engine: Engine) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL engine."""
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """One LISTEN connection; :meth:`wait` returns payloads, or nothing after ``timeout``.

    A lost connection is reopened on the next wait; meanwhile waits just sleep, so callers
    fall back to polling and nothing is missed for longer than their poll interval.
    """

    def __init__(self, engine: Engine, channels: tuple[str, ...]) -> None:
        self._conninfo = conninfo(engine)
        self.channels = channels
        self._conn: Any = None

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        for channel in self.channels:
            conn.execute(f"LISTEN {channel}")
        return conn

    def wait(self, timeout: float) -> list[str]:
        """Payloads notified within ``timeout`` seconds (all that arrived, as soon as one does)."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            conn = self._conn
            payloads = [n.payload for n in conn.notifies(timeout=timeout, stop_after=1)]
            if payloads:  # and whatever else is already waiting
                payloads += [n.payload for n in conn.notifies(timeout=0)]
            return payloads
        except Exception:  # the database went away: poll until it is back
            log.warning("LISTEN connection lost; polling until it is back", exc_info=True)
            self.close()
            time.sleep(timeout)
            return []

    def close(self) -> None:
        """Close the connection (a later wait reopens it)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken
                self._conn.close()
            self._conn = None


class JobEvents:
    """One LISTEN connection per API process, fanned out to the coroutines waiting on a job.

    Status streams and v1 waits call :meth:`wait` between reads of the store: on PostgreSQL
    it returns as soon as the job changes (a NOTIFY on ``refvid_jobs``), and otherwise after
    ``fallback`` seconds, so a lost notification costs one slow poll, never a stuck wait.
    Without :meth:`start` (SQLite) it simply sleeps the caller's poll interval.
    """

    def __init__(self, engine: Engine | None, fallback: float = 2.0) -> None:
        self.engine, self.fallback = engine, fallback
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether notifications are being received (PostgreSQL, started)."""
        return self._thread is not None

    def start(self) -> None:
        """Listen from a thread, delivering to this event loop (a no-op without PostgreSQL)."""
        if self.engine is None or self.engine.dialect.name != "postgresql":
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._listen, name="refvid-job-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (the thread ends within a second)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _listen(self) -> None:
        assert self.engine is not None and self._loop is not None
        listener = Listener(self.engine, (JOBS,))
        try:
            while not self._stopping.is_set():
                payloads = listener.wait(1.0)
                if payloads:
                    with contextlib.suppress(RuntimeError):  # the loop closed as we stopped
                        self._loop.call_soon_threadsafe(self._wake, set(payloads))
        finally:
            listener.close()

    def _wake(self, job_ids: set[str]) -> None:
        for job_id in job_ids:
            for future in self._waiters.pop(job_id, ()):
                if not future.done():
                    future.set_result(None)

    async def wait(self, job_id: str, poll: float) -> bool:
        """Until ``job_id`` changes (at most ``fallback`` s), or ``poll`` s when not listening.

        True when a notification ended the wait.
        """
        if not self.active:
            await asyncio.sleep(poll)
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, set()).add(future)
        try:
            done, _ = await asyncio.wait({future}, timeout=self.fallback)
            return bool(done)
        finally:
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[job_id]
