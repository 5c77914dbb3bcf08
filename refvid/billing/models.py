"""Tables for API keys and the credit ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from refvid.orm import Base, utcnow


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; the balance is in credit thousandths."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    # The webhook signing secret must be readable to sign, so it is stored as is;
    # it is shown to the operator once, at creation.
    webhook_secret: Mapped[str] = mapped_column(String(100))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class LedgerEntry(Base):
    """One movement of credits. (job_id, kind) is unique: a job is charged and refunded once."""

    __tablename__ = "ledger"
    __table_args__ = (UniqueConstraint("job_id", "kind", name="uq_ledger_job_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(40), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # grant | charge | refund
    amount: Mapped[int] = mapped_column(BigInteger)  # signed, thousandths
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateBucket(Base):
    """A key's token bucket for one limited action (``submit``, ``plan``), shared by every API process.

    ``tokens`` as of ``updated_at`` (Unix seconds); it refills continuously up to the limit.
    """

    __tablename__ = "rate_buckets"

    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
