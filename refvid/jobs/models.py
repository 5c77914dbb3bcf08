"""Tables for generation jobs, their webhook delivery attempts, and the registered worker nodes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from refvid.jobs.states import FINAL, Status, WebhookState
from refvid.orm import Base, utcnow

__all__ = ["DEFAULT_POOL", "FINAL", "Job", "Node", "Status", "WebhookAttempt", "WebhookState"]

DEFAULT_POOL = "default"


def _state_column(enum: type[Status] | type[WebhookState]) -> Enum:
    # Stored as the plain value in a VARCHAR(16): the same column as before the enums, no
    # database-side enum type to migrate.
    return Enum(
        enum, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members]
    )


class Job(Base):
    """One accepted request, from charge to result (or refund)."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("key_id", "idempotency_key", name="uq_jobs_idempotency"),
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_key_created", "key_id", "created_at"),
        Index("ix_jobs_claim", "status", "pool", "priority", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    status: Mapped[Status] = mapped_column(_state_column(Status), default=Status.QUEUED)
    # Deferred: it holds the references (up to the body limit) and only a worker needs it.
    request_json: Mapped[str] = mapped_column(Text, deferred=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255), default=None)
    webhook_url: Mapped[str | None] = mapped_column(Text, default=None)
    payload_json: Mapped[str | None] = mapped_column(Text, default=None)
    sync: Mapped[bool] = mapped_column(Boolean, default=False)
    base_url: Mapped[str] = mapped_column(Text, default="")  # for result links in webhooks
    cost: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Claims so far, never decreased (``attempts`` is, when a shutdown hands a job back): the
    # fence of an attempt. Each attempt writes under its own key and only the current fence
    # may complete, so a worker that lost its job can never touch the next attempt's files.
    fence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    # Database time after which the job's worker counts as gone; renewed with every beat.
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    pool: Mapped[str] = mapped_column(String(64), default=DEFAULT_POOL, server_default=DEFAULT_POOL)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the completing attempt's files are ("<id>/<fence>"); None: the first release's "<id>".
    result_key: Mapped[str | None] = mapped_column(String(255), default=None)
    error_status: Mapped[int | None] = mapped_column(Integer, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    seed: Mapped[int | None] = mapped_column(Integer, default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    frame_count: Mapped[int | None] = mapped_column(Integer, default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    video_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    generation_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_state: Mapped[WebhookState | None] = mapped_column(_state_column(WebhookState), default=None)
    webhook_next_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # A sender (on any node) that claimed the next delivery holds it until then (database time).
    webhook_claimed_until: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    """One POST to a job's webhook URL, kept so the status can show every attempt."""

    __tablename__ = "webhook_attempts"
    # One row per attempt number: two senders can never both record (or send) attempt n.
    __table_args__ = (Index("uq_webhook_attempts_job_attempt", "job_id", "attempt", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class Node(Base):
    """A running ``refvid serve`` or ``refvid worker``: what it runs, and when it was last seen.

    Job owners are named ``<node id>.<slot>...``, so a job whose node is not registered, or
    whose registration stopped being renewed, or whose process is gone from this same host,
    has an owner that is provably dead.
    """

    __tablename__ = "nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # serve | worker
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # Where ``pid`` means something: host, boot and PID namespace. Another node with the same
    # space may check the pid; anyone else must wait for ``last_seen`` to go stale.
    pid_space: Mapped[str] = mapped_column(String(255))
    pool: Mapped[str] = mapped_column(String(64), default=DEFAULT_POOL)
    slots: Mapped[int] = mapped_column(Integer, default=0)
    alive: Mapped[int] = mapped_column(Integer, default=0)  # render processes running now
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
