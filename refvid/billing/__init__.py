"""API keys (hashed) and the credit ledger (atomic debit, refund once)."""

from __future__ import annotations

from refvid.billing.keys import (
    AmbiguousKey,
    KeyInfo,
    NewKey,
    add_credits,
    authenticate,
    balance_of,
    create_key,
    find_key,
    find_keys,
    list_keys,
    revoke_key,
)

__all__ = [
    "AmbiguousKey",
    "KeyInfo",
    "NewKey",
    "add_credits",
    "authenticate",
    "balance_of",
    "create_key",
    "find_key",
    "find_keys",
    "list_keys",
    "revoke_key",
]
