"""API keys: shown once, stored hashed, credited exactly, revoked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from refvid.billing import (
    add_credits,
    authenticate,
    balance_of,
    create_key,
    find_key,
    list_keys,
    revoke_key,
)
from refvid.billing.models import ApiKey
from refvid.db import Database


def test_key_is_long_url_safe_and_stored_only_as_hash(db: Database) -> None:
    new = create_key(db, "alice", 5000)
    assert len(new.key) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", new.key)
    with db.read() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.id == new.id))
    assert row is not None and new.key not in (row.key_hash, row.prefix, row.webhook_secret)
    assert authenticate(db, new.key) is not None
    assert authenticate(db, new.key + "x") is None
    assert create_key(db, "bob").key != new.key


def test_add_credits_is_exact_and_never_below_zero(db: Database) -> None:
    new = create_key(db, "alice", 1000)
    assert add_credits(db, new.id, 1) == 1001  # a thousandth of a credit
    assert add_credits(db, new.id, -1001) == 0
    with pytest.raises(ValueError, match="below zero"):
        add_credits(db, new.id, -1)
    assert balance_of(db, new.id) == 0
    with pytest.raises(ValueError):
        create_key(db, "neg", -1)


def test_revoke_list_and_find(db: Database) -> None:
    new = create_key(db, "alice", 1000)
    assert find_key(db, "alice") is not None and find_key(db, str(new.id)) is not None
    assert find_key(db, new.key[:10]) is not None and find_key(db, "nobody") is None
    assert revoke_key(db, new.id) and not revoke_key(db, new.id)
    assert authenticate(db, new.key) is None
    (info,) = list_keys(db)
    assert info.revoked and info.balance == 1000 and info.prefix == new.key[:10]
