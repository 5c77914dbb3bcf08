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
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Dialect, Engine, Select, bindparam, func, select
from starlette.concurrency import run_in_threadpool

from refvid.billing.models import ApiKey
from refvid.db import Database
from refvid.jobs.models import Job, Status, WebhookAttempt

T = TypeVar("T")
Processor = Callable[[Any], Any] | None
# SQL text, bind names in order (positional drivers), bind defaults, bind and result converters.
_Compiled = tuple[str, list[str] | None, dict[str, Any], dict[str, Processor], list[Processor]]


class Prepared:
    """A ``SELECT`` compiled once per dialect and run straight on the driver's cursor.

    Executing a Core statement costs more than the point read itself: SQLAlchemy builds a
    cache key for it every time (~0.4 ms for a 30-column select here). This keeps the SQL
    text and the column types' converters (SQLite's timestamps are text, enums are
    strings) and applies them itself, so a read is the driver's ``execute`` plus a loop.
    That shortcut is for SQLite, the embedded default; other databases take the usual path.
    """

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self.keys = [str(column.key) for column in statement.selected_columns]
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in ((b.key, b) for b in compiled.binds.values())
        }
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        ]
        order = list(compiled.positiontup) if compiled.positiontup is not None else None
        entry: _Compiled = (compiled.string, order, dict(compiled.params), binds, results)  # type: ignore[assignment]
        self._by_dialect[dialect.name] = entry
        return entry

    def rows(self, conn: Connection, **params: Any) -> list[dict[str, Any]]:
        """Every row as a dict of column key → Python value."""
        dialect = conn.dialect
        if dialect.name != "sqlite":
            # Other drivers convert by the cursor's column types (psycopg's numerics need
            # them), which only SQLAlchemy's own execution path hands to the processors.
            return [dict(row) for row in conn.execute(self.statement, params).mappings()]
        sql, order, defaults, binds, results = self._by_dialect.get(dialect.name) or self._compile(dialect)
        values = {**defaults, **params}
        for name, process in binds.items():
            if process is not None and values.get(name) is not None:
                values[name] = process(values[name])
        arguments: Any = tuple(values[name] for name in order) if order is not None else values
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, arguments)
            raw = cursor.fetchall()
        finally:
            cursor.close()
        keys = self.keys
        return [
            dict(zip(keys, [v if p is None or v is None else p(v) for v, p in zip(row, results, strict=True)], strict=True))
            for row in raw
        ]

    def first(self, conn: Connection, **params: Any) -> dict[str, Any] | None:
        """The first row, or None."""
        found = self.rows(conn, **params)
        return found[0] if found else None


# Every column a document shows (not the stored request: it can be megabytes of base64).
JOB_COLUMNS = tuple(column for column in Job.__table__.columns if column.key != "request_json")


class JobView:
    """A job's columns as plain attributes: what the document builders read from a ``Job``.

    Building an ORM ``Job`` costs an instrumented ``__set__`` per column; the documents
    only read attributes, so a plain object with the same names serves them.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def as_job(self) -> Job:
        """Typed as the ORM class, for the builders in :mod:`refvid.jobs.documents`."""
        return cast(Job, self)


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


_KEY_BY_HASH = Prepared(
    select(ApiKey.id, ApiKey.name, ApiKey.webhook_secret, ApiKey.balance, ApiKey.revoked_at)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)
_OWNED_JOB = Prepared(
    select(*JOB_COLUMNS, ApiKey.balance.label("key_balance"), ApiKey.revoked_at.label("key_revoked_at"))
    .join(ApiKey, ApiKey.id == Job.key_id)
    .where(Job.id == bindparam("job_id"), Job.key_id == bindparam("key_id"))
)
# The claim's order (refvid.jobs.store.queue_position): higher priority first, then submit
# order, within the job's pool.
_AHEAD = Prepared(
    select(func.count().label("ahead")).where(
        Job.status == Status.QUEUED,
        Job.pool == bindparam("pool", type_=Job.pool.type),
        (Job.priority > bindparam("priority", type_=Job.priority.type))
        | (
            (Job.priority == bindparam("priority", type_=Job.priority.type))
            & (
                (Job.created_at < bindparam("created_at", type_=Job.created_at.type))
                | ((Job.created_at == bindparam("created_at", type_=Job.created_at.type))
                   & (Job.id < bindparam("job_id")))
            )
        ),
    )
)
_ATTEMPTS = Prepared(
    select(
        WebhookAttempt.attempt, WebhookAttempt.at, WebhookAttempt.status_code,
        WebhookAttempt.ok, WebhookAttempt.error,
    )
    .where(WebhookAttempt.job_id == bindparam("job_id"))
    .order_by(WebhookAttempt.attempt)
)
_KEY_STATE = Prepared(
    select(ApiKey.balance, ApiKey.revoked_at).where(ApiKey.id == bindparam("key_id"))
)
_ANCHOR = Prepared(
    select(Job.created_at, Job.id).where(Job.id == bindparam("job_id"), Job.key_id == bindparam("key_id"))
)
_PAGE = Prepared(
    select(*JOB_COLUMNS)
    .where(Job.key_id == bindparam("key_id"))
    .order_by(Job.created_at.desc(), Job.id.desc())
    .limit(bindparam("limit"))
)
_PAGE_BEFORE = Prepared(
    select(*JOB_COLUMNS)
    .where(
        Job.key_id == bindparam("key_id"),
        (Job.created_at < bindparam("created_at", type_=Job.created_at.type))
        | ((Job.created_at == bindparam("created_at", type_=Job.created_at.type)) & (Job.id < bindparam("anchor_id"))),
    )
    .order_by(Job.created_at.desc(), Job.id.desc())
    .limit(bindparam("limit"))
)


def _job(values: dict[str, Any]) -> Job:
    return JobView({column.key: values[column.key] for column in JOB_COLUMNS}).as_job()


def key_by_hash(conn: Connection, key_hash: str) -> KeyRow | None:
    """The active key with this hash."""
    row = _KEY_BY_HASH.first(conn, key_hash=key_hash)
    if row is None or row["revoked_at"] is not None:
        return None
    return KeyRow(row["id"], row["name"], row["webhook_secret"], int(row["balance"]))


def owned_job(conn: Connection, key_id: int, job_id: str) -> OwnedJob | None:
    """The job if ``key_id`` owns it, with the key's balance and whether it is revoked."""
    row = _OWNED_JOB.first(conn, job_id=job_id, key_id=key_id)
    if row is None:
        return None
    return OwnedJob(_job(row), int(row["key_balance"]), row["key_revoked_at"] is not None)


def queue_position(conn: Connection, job: Job) -> int | None:
    """1 for the next job to start; None once it is no longer queued."""
    if job.status != Status.QUEUED:
        return None
    row = _AHEAD.first(conn, pool=job.pool, priority=job.priority, created_at=job.created_at, job_id=job.id)
    return int(row["ahead"] if row else 0) + 1


def webhook_attempts(conn: Connection, job: Job) -> list[WebhookAttempt]:
    """Every delivery attempt of the job's webhook, oldest first (none without a webhook)."""
    if not job.webhook_url:
        return []
    return [cast(WebhookAttempt, JobView(row)) for row in _ATTEMPTS.rows(conn, job_id=job.id)]


def balance(conn: Connection, key_id: int) -> int:
    """The key's balance now, in thousandths."""
    row = _KEY_STATE.first(conn, key_id=key_id)
    return int(row["balance"]) if row else 0


def key_revoked(conn: Connection, key_id: int) -> bool:
    """Whether the key has been revoked (or no longer exists)."""
    row = _KEY_STATE.first(conn, key_id=key_id)
    return row is None or row["revoked_at"] is not None


@dataclass(frozen=True)
class Page:
    """One page of a key's jobs, newest first, and the key's balance."""

    jobs: Sequence[Job]
    balance: int
    revoked: bool


def list_page(conn: Connection, key_id: int, limit: int, before: str | None) -> Page:
    """Up to ``limit`` jobs of ``key_id`` older than ``before`` (an id of its own), newest first."""
    key = _KEY_STATE.first(conn, key_id=key_id)
    anchor = None if before is None else _ANCHOR.first(conn, job_id=before, key_id=key_id)
    if anchor is None:
        rows = _PAGE.rows(conn, key_id=key_id, limit=limit)
    else:
        rows = _PAGE_BEFORE.rows(
            conn, key_id=key_id, created_at=anchor["created_at"], anchor_id=anchor["id"], limit=limit
        )
    return Page(
        [_job(row) for row in rows],
        int(key["balance"]) if key is not None else 0,
        key is None or key["revoked_at"] is not None,
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
