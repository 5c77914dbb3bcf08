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


class AmbiguousKey(ValueError):
    """An identifier that names more than one key; ``matches`` lists them."""

    def __init__(self, ident: str, matches: list[ApiKey]) -> None:
        self.matches = matches
        listed = ", ".join(
            f"id {row.id} ({row.name}, {row.prefix}, {'revoked' if row.revoked_at else 'active'})"
            for row in matches
        )
        super().__init__(f"{ident!r} matches {len(matches)} keys: {listed}; use the id")


def find_keys(db: Database, ident: str) -> list[ApiKey]:
    """Every key whose numeric id, name or displayed prefix is ``ident``, oldest first."""
    with db.read() as session:
        condition = (ApiKey.name == ident) | (ApiKey.prefix == ident)
        if ident.isdigit():
            condition = condition | (ApiKey.id == int(ident))
        return list(session.scalars(select(ApiKey).where(condition).order_by(ApiKey.id)).all())


def find_key(db: Database, ident: str) -> ApiKey | None:
    """The one key named by id, name or prefix; None if none, :class:`AmbiguousKey` if several.

    Names are free text and need not be unique, so "alice" may name two keys, and a name
    may equal another key's id or prefix: guessing would revoke or credit the wrong one.
    """
    matches = find_keys(db, ident)
    if len(matches) > 1:
        raise AmbiguousKey(ident, matches)
    return matches[0] if matches else None


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


def key_revoked(db: Database, key_id: int) -> bool:
    """Whether the key has been revoked (or no longer exists)."""
    with db.read() as session:
        row = session.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return row is None or row[0] is not None


def balance_of(db: Database, key_id: int) -> int:
    """Current balance in thousandths."""
    with db.read() as session:
        return int(session.scalar(select(ApiKey.balance).where(ApiKey.id == key_id)) or 0)
