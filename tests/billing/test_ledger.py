"""The ledger: one conditional debit, never negative under a race, refunded at most once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from refvid.billing import balance_of, create_key
from refvid.billing.ledger import charge, entries_for, refund
from refvid.db import Database


def _charge(db: Database, key_id: int, job_id: str, amount: int) -> bool:
    with db.write.begin() as session:
        return charge(session, key_id, job_id, amount)


def test_concurrent_charges_never_overdraw(db: Database) -> None:
    key = create_key(db, "k", 10_000)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda n: _charge(db, key.id, f"job{n}", 1000), range(40)))
    assert results.count(True) == 10
    assert balance_of(db, key.id) == 0


def test_refund_happens_once_and_only_after_a_charge(db: Database) -> None:
    key = create_key(db, "k", 3000)
    assert _charge(db, key.id, "job1", 2000)
    assert not _charge(db, key.id, "job2", 2000)  # 1000 left
    with db.write.begin() as session:
        assert refund(session, "job1") == 2000
    with db.write.begin() as session:
        assert refund(session, "job1") == 0
        assert refund(session, "never-charged") == 0
    assert balance_of(db, key.id) == 3000
    with db.read() as session:
        assert [(e.kind, e.amount) for e in entries_for(session, "job1")] == [("charge", -2000), ("refund", 2000)]
