"""Database engine and session factory: SQLite (WAL) by default, PostgreSQL-compatible models."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from refvid.billing import models as _billing_tables  # noqa: F401  (registers the tables)
from refvid.config import Settings
from refvid.jobs import models as _job_tables  # noqa: F401
from refvid.orm import Base, db_now, utcnow
from refvid.private import private_dir, private_file

__all__ = ["Base", "Database", "db_now", "open_db", "utcnow"]


def _sqlite_engine(url: str, *, immediate: bool, wal_max_bytes: int) -> Engine:
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
        # After each checkpoint that resets the log, SQLite cuts the -wal file back to this
        # size; without it the file keeps its largest size ever (see trim_wal for the rest).
        cur.execute(f"PRAGMA journal_size_limit={int(wal_max_bytes)}")
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


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    return Path(database)


def _sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def trim_wal(db: Database, max_bytes: int) -> bool:
    """Checkpoint and truncate SQLite's write-ahead log once it is over ``max_bytes``.

    SQLite checkpoints on its own, but a checkpoint cannot reset the log while a reader
    still needs old pages, so under steady traffic the -wal file can grow without limit.
    Returns True when the log was truncated (False when it was small, or still in use).
    """
    path = sqlite_path(str(db.engine.url))
    if path is None:
        return False
    wal = _sidecars(path)[0]
    try:
        if wal.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    # A TRUNCATE checkpoint waits for readers on old snapshots while holding the write
    # lock: on its own short-lived connection with a 0.1 s busy timeout it gives up quickly
    # (and is retried later) instead of stalling every writer behind a slow reader.
    conn = sqlite3.connect(path, timeout=0.1)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:  # locked: try again on the next round
        return False
    finally:
        conn.close()
    return not busy


def connect(settings: Settings) -> Database:
    """The session factories, without looking at the schema (``refvid db`` starts here)."""
    url = settings.db_url
    if url.startswith("sqlite"):
        private_dir(settings.home)
        path = sqlite_path(url)
        if path is not None:
            # SQLite creates -wal and -shm with the database file's own mode. A folder of the
            # operator's choosing (outside REFVID_HOME) is created private but not changed.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            for name in (path, *_sidecars(path)):
                if name == path or name.exists():
                    private_file(name)
        writer = _sqlite_engine(url, immediate=True, wal_max_bytes=settings.wal_max_bytes)
        reader = _sqlite_engine(url, immediate=False, wal_max_bytes=settings.wal_max_bytes)
    else:
        writer = reader = create_engine(url, pool_pre_ping=True)
    return Database(
        engine=writer,
        write=sessionmaker(writer, expire_on_commit=False),
        read=sessionmaker(reader, expire_on_commit=False),
    )


def open_db(settings: Settings, *, migrate: bool | None = None) -> Database:
    """Connect, bring the schema up to date (or check it is), and return the session factories.

    ``migrate`` defaults to ``REFVID_AUTO_MIGRATE``, itself on for SQLite (the embedded
    default upgrades on start, nothing to type) and off for other databases, whose operators
    run ``refvid db upgrade`` once per release: a process started on an older schema then
    stops with that instruction instead of running half-migrated.
    """
    from refvid import migrations

    db = connect(settings)
    if migrate is None:
        migrate = settings.auto_migrate
    if migrate is None:
        migrate = db.engine.dialect.name == "sqlite"
    if migrate:
        migrations.upgrade(db.engine)
    else:
        migrations.check(db.engine)
    return db
