"""Tables for generation jobs and their webhook delivery attempts."""

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

__all__ = ["FINAL", "Job", "Status", "WebhookAttempt", "WebhookState"]


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
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
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


class WebhookAttempt(Base):
    """One POST to a job's webhook URL, kept so the status can show every attempt."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
