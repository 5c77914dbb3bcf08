"""The lean read path for what clients poll: the key check, status, result and list.

Every SDK ``wait()`` polls the status once a second, so these reads are most of the
traffic. They skip the ORM session (set up and torn down per request, with its identity
map): each is one or two SQLAlchemy Core ``SELECT``s of the columns a document needs, and
on SQLite they run on one dedicated connection straight on the event loop — a point read
of a local file takes tens of microseconds, less than handing it to a thread. On other
databases they run in the thread pool on pooled connections, as network round trips
must not hold the loop.

The status read joins the owner's key row, so a revoked key is refused and a credit
change shows in the very next document, whatever the key cache holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, func, select
from starlette.concurrency import run_in_threadpool

from refvid.billing.models import ApiKey
from refvid.db import Database
from refvid.jobs.models import Job, Status, WebhookAttempt

T = TypeVar("T")

# Every column a document shows (not the stored request: it can be megabytes of base64).
JOB_COLUMNS = tuple(
    column for column in Job.__table__.columns if column.key != "request_json"
)


@dataclass(frozen=True)
class KeyRow:
    """An authenticated API key, as the routes need it (never the key or its hash)."""

    id: int
    name: str
    webhook_secret: str
    balance: int


@dataclass(frozen=True)
class OwnedJob:
    """A job of the caller's key, with what its documents need beside it."""

    job: Job
    balance: int
    revoked: bool


def _job(row: Row[Any]) -> Job:
    values = row._mapping
    return Job(**{column.key: values[column.key] for column in JOB_COLUMNS})


def key_by_hash(conn: Connection, key_hash: str) -> KeyRow | None:
    """The active key with this hash."""
    row = conn.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.webhook_secret, ApiKey.balance, ApiKey.revoked_at)
        .where(ApiKey.key_hash == key_hash)
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    return KeyRow(row.id, row.name, row.webhook_secret, int(row.balance))


def owned_job(conn: Connection, key_id: int, job_id: str) -> OwnedJob | None:
    """The job if ``key_id`` owns it, with the key's balance and whether it is revoked."""
    row = conn.execute(
        select(*JOB_COLUMNS, ApiKey.balance.label("key_balance"), ApiKey.revoked_at.label("key_revoked_at"))
        .join(ApiKey, ApiKey.id == Job.key_id)
        .where(Job.id == job_id, Job.key_id == key_id)
    ).first()
    if row is None:
        return None
    return OwnedJob(_job(row), int(row.key_balance), row.key_revoked_at is not None)


def queue_position(conn: Connection, job: Job) -> int | None:
    """1 for the next job to start; None once it is no longer queued."""
    if job.status != Status.QUEUED:
        return None
    ahead = conn.execute(
        select(func.count()).where(
            Job.status == Status.QUEUED,
            (Job.created_at < job.created_at) | ((Job.created_at == job.created_at) & (Job.id < job.id)),
        )
    ).scalar()
    return int(ahead or 0) + 1


def webhook_attempts(conn: Connection, job: Job) -> list[WebhookAttempt]:
    """Every delivery attempt of the job's webhook, oldest first (none without a webhook)."""
    if not job.webhook_url:
        return []
    rows = conn.execute(
        select(
            WebhookAttempt.attempt, WebhookAttempt.at, WebhookAttempt.status_code,
            WebhookAttempt.ok, WebhookAttempt.error,
        )
        .where(WebhookAttempt.job_id == job.id)
        .order_by(WebhookAttempt.attempt)
    ).all()
    return [WebhookAttempt(**row._mapping) for row in rows]


def balance(conn: Connection, key_id: int) -> int:
    """The key's balance now, in thousandths."""
    return int(conn.execute(select(ApiKey.balance).where(ApiKey.id == key_id)).scalar() or 0)


def key_revoked(conn: Connection, key_id: int) -> bool:
    """Whether the key has been revoked (or no longer exists)."""
    row = conn.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return row is None or row.revoked_at is not None


@dataclass(frozen=True)
class Page:
    """One page of a key's jobs, newest first, and the key's balance."""

    jobs: Sequence[Job]
    balance: int
    revoked: bool


def list_page(conn: Connection, key_id: int, limit: int, before: str | None) -> Page:
    """Up to ``limit`` jobs of ``key_id`` older than ``before`` (an id of its own), newest first."""
    key = conn.execute(select(ApiKey.balance, ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    query = select(*JOB_COLUMNS).where(Job.key_id == key_id)
    if before is not None:
        anchor = conn.execute(
            select(Job.created_at, Job.id).where(Job.id == before, Job.key_id == key_id)
        ).first()
        if anchor is not None:
            created: datetime = anchor.created_at
            query = query.where(
                (Job.created_at < created) | ((Job.created_at == created) & (Job.id < anchor.id))
            )
    rows = conn.execute(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
    return Page(
        [_job(row) for row in rows],
        int(key.balance) if key is not None else 0,
        key is None or key.revoked_at is not None,
    )


class ReadPath:
    """Runs read functions on the right connection: see the module's docstring."""

    def __init__(self, db: Database) -> None:
        engine: Engine = db.read.kw["bind"]
        self.engine = engine
        self.inline = engine.dialect.name == "sqlite"
        # Used from the event loop's thread only (inline mode), so it needs no lock.
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def _run_inline(self, fn: Callable[..., T], *args: Any) -> T:
        conn = self._connection()
        try:
            return fn(conn, *args)
        finally:
            conn.rollback()  # no snapshot kept between requests: the next read sees new rows

    def _run_pooled(self, fn: Callable[..., T], *args: Any) -> T:
        with self.engine.connect() as conn:
            return fn(conn, *args)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)``: inline on SQLite, else in the thread pool."""
        if self.inline:
            return self._run_inline(fn, *args)
        return await run_in_threadpool(self._run_pooled, fn, *args)

    def close(self) -> None:
        """Close the dedicated connection (at shutdown)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
