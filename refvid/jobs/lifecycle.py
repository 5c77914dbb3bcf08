"""State transitions of a job. Each is one conditional UPDATE, so racing actors can't both win.

A worker owns a job while ``status == PROCESSING`` and ``worker_id`` is its id; the
final transitions (complete, fail, cancel) only apply to a job that is not final yet,
and fail/cancel refund through the ledger, which refuses a second refund.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import undefer

from refvid.billing.ledger import refund
from refvid.billing.models import ApiKey, LedgerEntry
from refvid.db import Database, utcnow
from refvid.jobs.models import Job, Status, WebhookAttempt, WebhookState

log = logging.getLogger(__name__)

ACTIVE = (Status.QUEUED, Status.PROCESSING)


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


def claim(db: Database, worker_id: str) -> Job | None:
    """Take the oldest queued job for ``worker_id``; None when the queue is empty."""
    for _ in range(5):
        with db.read() as session:
            job_id = session.scalar(
                select(Job.id)
                .where(Job.status == Status.QUEUED)
                .order_by(Job.created_at, Job.id)
                .limit(1)
            )
        if job_id is None:
            return None
        now = utcnow()
        with db.write.begin() as session:
            result = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == Status.QUEUED)
                .values(
                    status=Status.PROCESSING,
                    worker_id=worker_id,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    progress=0.0,
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(Job, job_id, options=[undefer(Job.request_json)])
    return None


def _final_values(job: Job | None, ttl: float, now: datetime, notify: bool = True) -> dict[str, object]:
    # A final job is never rendered again: drop its body (base64 references can be tens of MB).
    values: dict[str, object] = {
        "finished_at": now, "expires_at": now + timedelta(seconds=ttl), "request_json": "{}",
    }
    if job is not None and job.webhook_url:
        if notify:
            values.update(webhook_state=WebhookState.PENDING, webhook_next_at=now)
        else:
            values.update(webhook_state=WebhookState.SKIPPED, webhook_next_at=None)
    return values


def heartbeat(db: Database, job_id: str, worker_id: str, progress: float | None = None) -> bool:
    """Prove the worker is alive (and record progress); False once the job is no longer its own."""
    values: dict[str, object] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    with db.write.begin() as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == Status.PROCESSING)
            .values(**values)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def still_mine(db: Database, job_id: str, worker_id: str) -> bool:
    """Whether the worker should keep rendering (read-only cancellation poll)."""
    with db.read() as session:
        row = session.execute(select(Job.status, Job.worker_id).where(Job.id == job_id)).first()
    return row is not None and row[0] == Status.PROCESSING and row[1] == worker_id


def complete(db: Database, job_id: str, worker_id: str, outcome: Outcome, ttl: float) -> bool:
    """Mark the job COMPLETED; False if it was cancelled or reassigned meanwhile."""
    now = utcnow()
    with db.write.begin() as session:
        job = session.get(Job, job_id)
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == Status.PROCESSING)
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
                **_final_values(job, ttl, now),
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def fail(
    db: Database,
    job_id: str,
    *,
    http_status: int,
    code: str,
    message: str,
    ttl: float,
    worker_id: str | None = None,
    status: Status = Status.FAILED,
    only: Status | None = None,
    notify: bool = True,
) -> bool:
    """Move an active job to FAILED (or CANCELLED) and refund it; False if already final.

    ``only`` restricts the move to jobs in that state; ``notify=False`` marks the job's
    webhook ``skipped`` instead of due.
    """
    now = utcnow()
    with db.write.begin() as session:
        job = session.get(Job, job_id)
        states = ACTIVE if only is None else (only,)
        query = update(Job).where(Job.id == job_id, Job.status.in_(states))
        if worker_id is not None:
            query = query.where(Job.worker_id == worker_id)
        result = session.execute(
            query.values(
                status=status,
                error_status=http_status,
                error_code=code,
                error_message=message,
                **_final_values(job, ttl, now, notify),
            )
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        refund(session, job_id)
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
) -> list[str]:
    """Re-queue or fail PROCESSING jobs whose worker is gone; returns the ids touched.

    ``dead_workers=None`` means every PROCESSING job is orphaned (start-up of the only
    server). A job already started ``max_attempts`` times is failed and refunded, so a
    request that crashes its worker cannot crash workers forever.
    """
    with db.read() as session:
        jobs = session.scalars(select(Job).where(Job.status == Status.PROCESSING)).all()
    touched: list[str] = []
    for job in jobs:
        orphan = dead_workers is None or job.worker_id in dead_workers
        stale = stale_before is not None and (job.heartbeat_at or job.created_at) < stale_before
        if not (orphan or stale):
            continue
        if job.attempts >= max_attempts:
            done = fail(
                db, job.id, http_status=500, code="worker_lost", ttl=ttl, worker_id=job.worker_id,
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
                    )
                    .values(status=Status.QUEUED, worker_id=None, progress=0.0)
                )
                done = result.rowcount == 1  # type: ignore[attr-defined]
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
            .values(status=Status.QUEUED, worker_id=None, progress=0.0, attempts=Job.attempts - 1)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def due_for_expiry(db: Database, now: datetime | None = None) -> list[str]:
    """Final jobs whose results have outlived the TTL and are not yet marked expired."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Job.id).where(
                    Job.expired.is_(False), Job.expires_at.is_not(None),
                    Job.expires_at <= (now or utcnow()),
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


def purge(db: Database, finished_before: datetime, now: datetime | None = None) -> int:
    """Delete expired jobs that finished before ``finished_before``; returns how many.

    With each job go its webhook attempts and, when it was refunded, its charge and refund
    (they cancel out). A paid job's charge stays in the ledger. A job whose webhook is
    still being delivered is kept until that ends.
    """
    now = now or utcnow()
    removed = 0
    while True:
        with db.write.begin() as session:
            ids = list(
                session.scalars(
                    select(Job.id)
                    .where(
                        Job.expires_at <= now,  # indexed; an expired job is past it
                        Job.expired.is_(True),
                        Job.finished_at <= finished_before,
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
