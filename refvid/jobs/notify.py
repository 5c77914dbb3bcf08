"""Wake-ups through PostgreSQL's LISTEN/NOTIFY, with polling as the fallback (and on SQLite).

Two channels: ``refvid_queue`` (payload: the pool) when a job is queued, so idle workers
claim at once instead of on their next poll; ``refvid_jobs`` (payload: the job id) when a
job changes, so status streams and v1 waits in an API process wake up. A NOTIFY sent inside
a transaction is delivered at its commit, never for a rolled-back change.
"""

from __future__ import annotations

import contextlib
import logging
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
