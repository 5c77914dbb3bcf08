"""State transitions of a job. Each is one conditional UPDATE, so racing actors can't both win.

A worker owns a job while ``status == PROCESSING``, ``worker_id`` is its id and ``fence``
is the number its claim gave the attempt; it keeps it while it renews the lease
(``lease_expires_at``, database time). The final transitions (complete, fail, cancel)
only apply to a job that is not final yet, and fail/cancel refund through the ledger,
which refuses a second refund. Every time here is the database's clock (``db_now``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import undefer

from refvid.billing.ledger import refund
from refvid.billing.models import ApiKey, LedgerEntry
from refvid.db import Database, db_now
from refvid.jobs import notify as wake
from refvid.jobs.models import DEFAULT_POOL, Job, Status, WebhookAttempt, WebhookState

log = logging.getLogger(__name__)

ACTIVE = (Status.QUEUED, Status.PROCESSING)
LEASE_SECONDS = 120.0
"""Default lease (``REFVID_WORKER_STALE_SECONDS``): a worker silent this long has lost its job."""


@dataclass(frozen=True)
class Outcome:
    """What a finished render produced, written onto the job."""

    seed: int
    width: int
    height: int
    frame_count: int
    duration: float
    video_bytes: int
    generation_seconds: float


def attempt_key(job_id: str, fence: int) -> str:
    """Where one attempt of a job writes its files: its own key, never another attempt's."""
    return f"{job_id}/{fence}"


def claim(db: Database, worker_id: str, *, pool: str = DEFAULT_POOL, lease: float = LEASE_SECONDS) -> Job | None:
    """Take the next queued job of ``pool`` for ``worker_id``; None when there is none.

    One statement: the highest priority, then the oldest (by the database's clock), locked
    with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so that concurrent claimers each take a
    different job without waiting on each other (SQLite serialises writers anyway).
    """
    following = (
        select(Job.id)
        .where(Job.status == Status.QUEUED, Job.pool == pool)
        .order_by(Job.priority.desc(), Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    with db.write.begin() as session:
        job_id = session.scalar(
            update(Job)
            .where(Job.id == following, Job.status == Status.QUEUED)
            .values(
                status=Status.PROCESSING,
                worker_id=worker_id,
                attempts=Job.attempts + 1,
                fence=Job.fence + 1,
                started_at=db_now(),
                heartbeat_at=db_now(),
                lease_expires_at=db_now(lease),
                progress=0.0,
            )
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        )
        if job_id is None:
            return None
        wake.send(session, wake.JOBS, job_id)
        return session.get(Job, job_id, options=[undefer(Job.request_json)])


def _final_values(job: Job | None, ttl: float, notify: bool = True) -> dict[str, object]:
    # A final job is never rendered again: drop its body (base64 references can be tens of MB).
    values: dict[str, object] = {
        "finished_at": db_now(), "expires_at": db_now(ttl), "request_json": "{}",
        "lease_expires_at": None,
    }
    if job is not None and job.webhook_url:
        if notify:
            values.update(webhook_state=WebhookState.PENDING, webhook_next_at=db_now())
        else:
            values.update(webhook_state=WebhookState.SKIPPED, webhook_next_at=None)
    return values


def _owned(job_id: str, worker_id: str, fence: int | None) -> list[Any]:
    conditions = [Job.id == job_id, Job.worker_id == worker_id, Job.status == Status.PROCESSING]
    if fence is not None:
        conditions.append(Job.fence == fence)
    return conditions


def heartbeat(
    db: Database, job_id: str, worker_id: str, progress: float | None = None, *,
    fence: int | None = None, lease: float = LEASE_SECONDS,
) -> bool:
    """Renew the lease (and record progress); False once the job is no longer this attempt's."""
    values: dict[str, object] = {"heartbeat_at": db_now(), "lease_expires_at": db_now(lease)}
    if progress is not None:
        values["progress"] = progress
    with db.write.begin() as session:
        result = session.execute(update(Job).where(*_owned(job_id, worker_id, fence)).values(**values))
        mine = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        if mine and progress is not None:
            wake.send(session, wake.JOBS, job_id)
        return mine


def still_mine(db: Database, job_id: str, worker_id: str, fence: int | None = None) -> bool:
    """Whether the worker should keep rendering (read-only cancellation poll)."""
    with db.read() as session:
        row = session.execute(select(Job.id).where(*_owned(job_id, worker_id, fence))).first()
    return row is not None


def complete(
    db: Database, job_id: str, worker_id: str, outcome: Outcome, ttl: float, *,
    fence: int | None = None, result_key: str | None = None,
) -> bool:
    """Mark the job COMPLETED with this attempt's files; False if it was cancelled or taken away.

    Fenced: only the attempt that holds the job now (``fence``) may publish its
    ``result_key``; a worker that lost its lease finds nothing to update and discards its own.
    """
    with db.write.begin() as session:
        job = session.get(Job, job_id)
        result = session.execute(
            update(Job)
            .where(*_owned(job_id, worker_id, fence))
            .values(
                status=Status.COMPLETED,
                progress=1.0,
                seed=outcome.seed,
                width=outcome.width,
                height=outcome.height,
                frame_count=outcome.frame_count,
                duration=outcome.duration,
                video_bytes=outcome.video_bytes,
                generation_seconds=outcome.generation_seconds,
                result_key=result_key,
                **_final_values(job, ttl),
            )
        )
        done = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        if done:
            wake.send(session, wake.JOBS, job_id)
        return done


def fail(
    db: Database,
    job_id: str,
    *,
    http_status: int,
    code: str,
    message: str,
    ttl: float,
    worker_id: str | None = None,
    fence: int | None = None,
    status: Status = Status.FAILED,
    only: Status | None = None,
    notify: bool = True,
) -> bool:
    """Move an active job to FAILED (or CANCELLED) and refund it; False if already final.

    ``only`` restricts the move to jobs in that state; ``notify=False`` marks the job's
    webhook ``skipped`` instead of due.
    """
    with db.write.begin() as session:
        job = session.get(Job, job_id)
        states = ACTIVE if only is None else (only,)
        query = update(Job).where(Job.id == job_id, Job.status.in_(states))
        if worker_id is not None:
            query = query.where(Job.worker_id == worker_id)
        if fence is not None:
            query = query.where(Job.fence == fence)
        result = session.execute(
            query.values(
                status=status,
                error_status=http_status,
                error_code=code,
                error_message=message,
                **_final_values(job, ttl, notify),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        refund(session, job_id)
        wake.send(session, wake.JOBS, job_id)
        return True


def cancel(db: Database, job_id: str, *, reason: str, ttl: float) -> bool:
    """Cancel a job that has not finished, refunding it; False if it was already final.

    A job cancelled before a worker started it sends no webhook: its owner has just been
    told, and otherwise a free submit-and-cancel would buy signed POSTs to any address.
    A job cancelled while rendering still reports through its webhook.
    """
    common: dict[str, Any] = {
        "http_status": 499, "code": "cancelled", "message": reason, "ttl": ttl,
        "status": Status.CANCELLED,
    }
    if fail(db, job_id, only=Status.QUEUED, notify=False, **common):
        return True
    return fail(db, job_id, **common)


def recover(
    db: Database,
    *,
    dead_workers: set[str] | None,
    stale_before: datetime | None,
    max_attempts: int,
    ttl: float,
    expired_leases: bool = False,
    lease: float = LEASE_SECONDS,
) -> list[str]:
    """Re-queue or fail PROCESSING jobs whose worker is provably gone; returns the ids touched.

    Gone means: its id is in ``dead_workers`` (a child seen dead, a node proven dead;
    None: every PROCESSING job, for tools only), its heartbeat is older than
    ``stale_before``, or — with ``expired_leases`` — its lease has run out by the
    database's clock (a job claimed before leases existed has none: its last heartbeat
    plus ``lease`` stands in). Each move is fenced on the attempt seen, so a job that changed hands
    meanwhile is left alone. A job already started ``max_attempts`` times is failed and
    refunded, so a request that crashes its worker cannot crash workers forever.
    """
    conditions = []
    if dead_workers is None:
        conditions.append(Job.status == Status.PROCESSING)
    elif dead_workers:
        conditions.append(Job.worker_id.in_(dead_workers))
    if stale_before is not None:
        conditions.append(func.coalesce(Job.heartbeat_at, Job.created_at) < stale_before)
    if expired_leases:
        conditions.append(Job.lease_expires_at < db_now())
        conditions.append(
            Job.lease_expires_at.is_(None)
            & (func.coalesce(Job.heartbeat_at, Job.created_at) < db_now(-lease))
        )
    if not conditions:
        return []
    with db.read() as session:
        jobs = session.execute(
            select(Job.id, Job.worker_id, Job.fence, Job.attempts, Job.pool)
            .where(Job.status == Status.PROCESSING, or_(*conditions))
        ).all()
    touched: list[str] = []
    for job in jobs:
        if job.attempts >= max_attempts:
            done = fail(
                db, job.id, http_status=500, code="worker_lost", ttl=ttl, worker_id=job.worker_id,
                fence=job.fence,
                message=f"the render worker stopped {job.attempts} times on this request; "
                "it was not charged — try again, or with fewer or smaller references",
            )
        else:
            with db.write.begin() as session:
                result = session.execute(
                    update(Job)
                    .where(
                        Job.id == job.id,
                        Job.status == Status.PROCESSING,
                        Job.worker_id == job.worker_id,
                        Job.fence == job.fence,
                    )
                    .values(status=Status.QUEUED, worker_id=None, progress=0.0, lease_expires_at=None)
                )
                done = result.rowcount == 1  # type: ignore[attr-defined]
                if done:
                    wake.send(session, wake.QUEUE, job.pool)
                    wake.send(session, wake.JOBS, job.id)
        if done:
            log.warning("recovered job %s from worker %s", job.id, job.worker_id)
            touched.append(job.id)
    return touched


def release(db: Database, worker_ids: set[str]) -> int:
    """Put back in the queue the jobs of workers stopped on purpose (a shutdown is no crash)."""
    if not worker_ids:
        return 0
    with db.write.begin() as session:
        result = session.execute(
            update(Job)
            .where(Job.status == Status.PROCESSING, Job.worker_id.in_(worker_ids))
            .values(
                status=Status.QUEUED, worker_id=None, progress=0.0, lease_expires_at=None,
                attempts=Job.attempts - 1,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            wake.send(session, wake.QUEUE, DEFAULT_POOL)
        return int(result.rowcount)  # type: ignore[attr-defined]


def due_for_expiry(db: Database, now: datetime | None = None) -> list[str]:
    """Final jobs whose results have outlived the TTL and are not yet marked expired."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Job.id).where(
                    Job.expired.is_(False), Job.expires_at.is_not(None),
                    Job.expires_at <= (now or db_now()),
                )
            ).all()
        )


def mark_expired(db: Database, job_id: str) -> None:
    """Record that a job's files were deleted, and drop its stored references and payload too."""
    with db.write.begin() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(expired=True, request_json="{}", payload_json=None)
        )


REVOKED_REASON = "the API key was revoked; the request was cancelled and refunded"


def stop_revoked(db: Database, ttl: float) -> list[str]:
    """Stop what revoked keys started: cancel their unfinished jobs, drop their webhooks.

    Revoking a key withdraws it: its queued and rendering requests are cancelled (and
    refunded, like any cancellation), and no webhook of it is sent any more. Returns the
    ids of the jobs cancelled.
    """
    revoked = select(ApiKey.id).where(ApiKey.revoked_at.is_not(None))
    with db.read() as session:  # reads first: the supervisor calls this on every round
        active = list(
            session.scalars(select(Job.id).where(Job.status.in_(ACTIVE), Job.key_id.in_(revoked))).all()
        )
        hooks = list(
            session.scalars(
                select(Job.id).where(Job.webhook_state == WebhookState.PENDING, Job.key_id.in_(revoked))
            ).all()
        )
    cancelled = [
        job_id for job_id in active
        if fail(db, job_id, http_status=401, code="key_revoked", message=REVOKED_REASON, ttl=ttl,
                status=Status.CANCELLED, notify=False)
    ]  # fmt: skip
    if hooks:
        with db.write.begin() as session:
            session.execute(
                update(Job)
                .where(Job.id.in_(hooks), Job.webhook_state == WebhookState.PENDING)
                .values(webhook_state=WebhookState.SKIPPED, webhook_next_at=None)
            )
    return cancelled


PURGE_BATCH = 500


def purge(db: Database, finished_before: datetime | float, now: datetime | None = None) -> int:
    """Delete expired jobs that finished before ``finished_before``; returns how many.

    With each job go its webhook attempts and, when it was refunded, its charge and refund
    (they cancel out). A paid job's charge stays in the ledger. A job whose webhook is
    still being delivered is kept until that ends.
    """
    # Seconds: that long ago by the database's clock.
    before = db_now(-finished_before) if isinstance(finished_before, float | int) else finished_before
    removed = 0
    while True:
        with db.write.begin() as session:
            ids = list(
                session.scalars(
                    select(Job.id)
                    .where(
                        Job.expires_at <= (now or db_now()),  # indexed; an expired job is past it
                        Job.expired.is_(True),
                        Job.finished_at <= before,
                        or_(Job.webhook_state.is_(None), Job.webhook_state != WebhookState.PENDING),
                    )
                    .limit(PURGE_BATCH)
                ).all()
            )
            if not ids:
                return removed
            refunded = select(LedgerEntry.job_id).where(
                LedgerEntry.job_id.in_(ids), LedgerEntry.kind == "refund"
            )
            session.execute(delete(LedgerEntry).where(LedgerEntry.job_id.in_(refunded)))
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.job_id.in_(ids)))
            session.execute(delete(Job).where(Job.id.in_(ids)))
            removed += len(ids)
