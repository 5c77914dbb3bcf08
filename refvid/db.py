"""Database engine and session factory: SQLite (WAL) by default, PostgreSQL-compatible models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from refvid.billing import models as _billing_tables  # noqa: F401  (registers the tables)
from refvid.config import Settings
from refvid.jobs import models as _job_tables  # noqa: F401
from refvid.orm import Base, utcnow

__all__ = ["Base", "Database", "open_db", "utcnow"]


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets the API read while a worker writes. The driver's own transaction
        # handling is switched off: writers open with BEGIN IMMEDIATE (below) so that
        # concurrent writers queue on the busy timeout instead of failing on upgrade,
        # and readers run each statement on its own snapshot without taking the lock.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass
class Database:
    """Session factories: ``write`` for transactions that change rows, ``read`` for lookups."""

    engine: Engine
    write: sessionmaker[Session]
    read: sessionmaker[Session]

    def dispose(self) -> None:
        """Close every pooled connection (before fork/exit)."""
        self.engine.dispose()
        self.read.kw["bind"].dispose()


def open_db(settings: Settings) -> Database:
    """Connect, create the tables if needed, and return the session factories."""
    url = settings.db_url
    if url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
        writer = _sqlite_engine(url, immediate=True)
        reader = _sqlite_engine(url, immediate=False)
    else:
        writer = reader = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(writer)
    return Database(
        engine=writer,
        write=sessionmaker(writer, expire_on_commit=False),
        read=sessionmaker(reader, expire_on_commit=False),
    )
