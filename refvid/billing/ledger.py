"""Charging and refunding jobs inside the caller's transaction: atomic, never negative, never twice."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from refvid.billing.models import ApiKey, LedgerEntry


def charge(session: Session, key_id: int, job_id: str, amount: int) -> bool:
    """Debit ``amount`` if the balance covers it (one conditional UPDATE); False otherwise."""
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.balance >= amount, ApiKey.revoked_at.is_(None))
        .values(balance=ApiKey.balance - amount)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(LedgerEntry(key_id=key_id, job_id=job_id, kind="charge", amount=-amount))
    session.flush()
    return True


def refund(session: Session, job_id: str) -> int:
    """Credit back what ``job_id`` was charged, once; returns the amount (0 if nothing to do)."""
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.job_id == job_id)).all()
    kinds = {entry.kind: entry for entry in entries}
    charged = kinds.get("charge")
    if charged is None or "refund" in kinds:
        return 0
    amount = -charged.amount
    # The unique (job_id, kind) constraint is the backstop: a racing second refund fails
    # its insert and rolls back its balance update with it.
    session.add(LedgerEntry(key_id=charged.key_id, job_id=job_id, kind="refund", amount=amount))
    session.flush()
    session.execute(
        update(ApiKey).where(ApiKey.id == charged.key_id).values(balance=ApiKey.balance + amount)
    )
    return amount


def entries_for(session: Session, job_id: str) -> list[LedgerEntry]:
    """All ledger rows of one job, in order."""
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.id)
        ).all()
    )
