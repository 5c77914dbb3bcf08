"""API keys: created once (shown once), stored as a hash, credited, listed and revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from refvid.billing.models import ApiKey, LedgerEntry
from refvid.orm import utcnow

if TYPE_CHECKING:
    from refvid.db import Database

KEY_PREFIX = "rv_"


@dataclass(frozen=True)
class NewKey:
    """What the operator sees exactly once: the key and its webhook signing secret."""

    id: int
    name: str
    key: str
    webhook_secret: str
    balance: int


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: never the key itself."""

    id: int
    name: str
    prefix: str
    balance: int
    created_at: datetime
    revoked: bool


def hash_key(key: str) -> str:
    """SHA-256 hex of a key: keys are long and random, so no slow hash is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Database, name: str, credits: int = 0) -> NewKey:
    """Create a key with ``credits`` (thousandths) and return it in the clear, once."""
    if credits < 0:
        raise ValueError("credits must not be negative")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with db.write.begin() as session:
        row = ApiKey(
            name=name, key_hash=hash_key(key), prefix=key[:10], webhook_secret=secret, balance=credits
        )
        session.add(row)
        session.flush()
        if credits:
            session.add(LedgerEntry(key_id=row.id, kind="grant", amount=credits))
        return NewKey(id=row.id, name=name, key=key, webhook_secret=secret, balance=credits)


def authenticate(db: Database, key: str) -> ApiKey | None:
    """The active key matching ``key``, or None."""
    with db.read() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        if row is None or row.revoked_at is not None:
            return None
        return row


def list_keys(db: Database) -> list[KeyInfo]:
    """Every key, oldest first."""
    with db.read() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id)).all()
        return [
            KeyInfo(r.id, r.name, r.prefix, r.balance, r.created_at, r.revoked_at is not None)
            for r in rows
        ]


def find_key(db: Database, ident: str) -> ApiKey | None:
    """A key by numeric id, name or displayed prefix (the first match)."""
    with db.read() as session:
        if ident.isdigit():
            row = session.get(ApiKey, int(ident))
            if row is not None:
                return row
        return session.scalar(
            select(ApiKey).where((ApiKey.name == ident) | (ApiKey.prefix == ident)).order_by(ApiKey.id)
        )


def add_credits(db: Database, key_id: int, credits: int) -> int:
    """Add (or, if negative, remove without going below zero) credits; returns the balance."""
    with db.write.begin() as session:
        result = session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.balance + credits >= 0)
            .values(balance=ApiKey.balance + credits)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ValueError("unknown key, or the balance would go below zero")
        session.add(LedgerEntry(key_id=key_id, kind="grant", amount=credits))
        balance = session.scalar(select(ApiKey.balance).where(ApiKey.id == key_id))
        return int(balance or 0)


def revoke_key(db: Database, key_id: int) -> bool:
    """Revoke a key; False when it was unknown or already revoked."""
    with db.write.begin() as session:
        result = session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def balance_of(db: Database, key_id: int) -> int:
    """Current balance in thousandths."""
    with db.read() as session:
        return int(session.scalar(select(ApiKey.balance).where(ApiKey.id == key_id)) or 0)
