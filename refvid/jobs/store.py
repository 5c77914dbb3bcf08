"""Job records: submit (with its charge, in one transaction), look up, list, queue position."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from refvid.billing.ledger import charge
from refvid.db import Database, db_now
from refvid.jobs import notify
from refvid.jobs.models import DEFAULT_POOL, Job, Status, WebhookAttempt
from refvid.request import GenerationRequest


class SubmitError(Exception):
    """A submit that was refused; the API maps each subclass to a status code."""


class InsufficientCredits(SubmitError):
    """The key's balance does not cover the cost (HTTP 406)."""


class QueueFull(SubmitError):
    """Too many requests are waiting (HTTP 429)."""


class IdempotencyConflict(SubmitError):
    """The Idempotency-Key was already used with a different body (HTTP 409)."""


@dataclass(frozen=True)
class Submitted:
    """The job a submit produced, and whether it is new or an idempotent replay."""

    job: Job
    created: bool


def new_job_id() -> str:
    """A unguessable request id, safe in URLs."""
    return "req_" + secrets.token_hex(12)


def submit(
    db: Database,
    *,
    key_id: int,
    request: GenerationRequest,
    body_hash: str,
    cost: int,
    max_queue: int,
    webhook_url: str | None = None,
    payload: Any = None,
    idempotency_key: str | None = None,
    sync: bool = False,
    base_url: str = "",
    job_id: str | None = None,
    request_json: str | None = None,
    pool: str = DEFAULT_POOL,
) -> Submitted:
    """Charge ``cost`` and queue the request, atomically; replays an idempotent retry.

    The seed is made concrete here, once, in the ``seed`` column: a retried or recovered job
    renders the same video. ``request_json`` is ``request`` already serialised (as sent,
    seed 0 included), so that a body of base64 images is serialised only once.
    """
    if idempotency_key is not None:
        existing = _by_idempotency(db, key_id, idempotency_key, body_hash)
        if existing is not None:
            return Submitted(existing, created=False)
    job = Job(
        id=job_id or new_job_id(),
        key_id=key_id,
        status=Status.QUEUED,
        request_json=request.model_dump_json() if request_json is None else request_json,
        seed=request.with_seed().seed,
        body_hash=body_hash,
        idempotency_key=idempotency_key,
        webhook_url=webhook_url,
        payload_json=None if payload is None else json.dumps(payload),
        sync=sync,
        base_url=base_url,
        cost=cost,
        pool=pool,
    )
    try:
        with db.write.begin() as session:
            # Count and insert under one lock, so concurrent submits on any number of API nodes
            # never pass the bound (SQLite's BEGIN IMMEDIATE is that lock already).
            _lock_queue(session)
            # Submit order is the database's clock: API nodes with skewed clocks still agree.
            job.created_at = session.scalar(select(db_now()))  # type: ignore[assignment]
            if _queued_count(session) >= max_queue:
                raise QueueFull(f"the queue is full ({max_queue} requests waiting)")
            session.add(job)
            session.flush()
            if not charge(session, key_id, job.id, cost):
                raise InsufficientCredits("not enough credits")
            notify.send(session, notify.QUEUE, pool)
    except IntegrityError:
        # A concurrent retry with the same Idempotency-Key won the insert.
        if idempotency_key is None:
            raise
        existing = _by_idempotency(db, key_id, idempotency_key, body_hash)
        if existing is None:
            raise
        return Submitted(existing, created=False)
    return Submitted(job, created=True)


def has_idempotency_key(db: Database, key_id: int, idem: str) -> bool:
    """Whether ``key_id`` already has a request under this Idempotency-Key (a replay)."""
    with db.read() as session:
        found = session.scalar(
            select(Job.id).where(Job.key_id == key_id, Job.idempotency_key == idem).limit(1)
        )
    return found is not None


def _by_idempotency(db: Database, key_id: int, idem: str, body_hash: str) -> Job | None:
    with db.read() as session:
        job = session.scalar(
            select(Job).where(Job.key_id == key_id, Job.idempotency_key == idem)
        )
    if job is not None and job.body_hash != body_hash:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different body; "
            "use a new key for a different request"
        )
    return job


_QUEUE_LOCK = 0x72656677  # one PostgreSQL advisory lock: the queue bound's count-and-insert


def _lock_queue(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _QUEUE_LOCK})


def _queued_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Job.status == Status.QUEUED)) or 0)


def queued_count(db: Database) -> int:
    """Requests waiting for a worker."""
    with db.read() as session:
        return _queued_count(session)


def get_job(db: Database, job_id: str, key_id: int | None = None) -> Job | None:
    """A job by id; with ``key_id``, only if that key owns it."""
    with db.read() as session:
        job = session.get(Job, job_id)
    if job is None or (key_id is not None and job.key_id != key_id):
        return None
    return job


def queue_position(db: Database, job: Job) -> int | None:
    """1 for the next job to start; None once it is no longer queued."""
    if job.status != Status.QUEUED:
        return None
    with db.read() as session:
        # The claim's order: higher priority first, then submit order, within the job's pool.
        ahead = session.scalar(
            select(func.count()).where(
                Job.status == Status.QUEUED,
                Job.pool == job.pool,
                (Job.priority > job.priority)
                | (
                    (Job.priority == job.priority)
                    & (
                        (Job.created_at < job.created_at)
                        | ((Job.created_at == job.created_at) & (Job.id < job.id))
                    )
                ),
            )
        )
    return int(ahead or 0) + 1


def list_jobs(db: Database, key_id: int, *, limit: int, before: str | None = None) -> list[Job]:
    """A key's own jobs, newest first; ``before`` is the last id of the previous page."""
    with db.read() as session:
        query = select(Job).where(Job.key_id == key_id)
        if before is not None:
            anchor = session.get(Job, before)
            if anchor is not None and anchor.key_id == key_id:
                query = query.where(
                    (Job.created_at < anchor.created_at)
                    | ((Job.created_at == anchor.created_at) & (Job.id < anchor.id))
                )
        query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        return list(session.scalars(query).all())


def webhook_attempts(db: Database, job_id: str) -> list[WebhookAttempt]:
    """Every delivery attempt of a job's webhook, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.job_id == job_id)
                .order_by(WebhookAttempt.attempt)
            ).all()
        )
