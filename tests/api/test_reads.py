"""The lean read path gives the same documents as the ORM store, for a job in every state."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from refvid.api import reads
from refvid.billing import create_key, revoke_key
from refvid.billing.keys import hash_key
from refvid.billing.models import ApiKey
from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.jobs import store
from refvid.jobs.documents import result_of, status_document
from refvid.jobs.models import Job

from .test_read_documents import jobs_in_every_state


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(Settings(home=tmp_path / "home"))


def test_documents_from_the_lean_path_equal_the_stores(db: Database) -> None:
    key_id = create_key(db, "k", 42_500).id
    with db.write.begin() as session:
        session.add_all(jobs_in_every_state(key_id))
    ids = [row.id for row in jobs_in_every_state(key_id) if isinstance(row, Job)]
    with db.read.kw["bind"].connect() as conn:
        for job_id in ids:
            old = store.get_job(db, job_id, key_id=key_id)
            assert old is not None
            attempts = store.webhook_attempts(db, job_id) if old.webhook_url else []
            owned = reads.owned_job(conn, key_id, job_id)
            assert owned is not None and owned.balance == 42_500 and not owned.revoked
            new = owned.job
            assert reads.queue_position(conn, new) == store.queue_position(db, old)
            assert status_document(
                new, reads.queue_position(conn, new), reads.webhook_attempts(conn, new), owned.balance
            ) == status_document(old, store.queue_position(db, old), attempts, 42_500)
            assert result_of(new, 1, "http://x/", "s") == result_of(old, 1, "http://x/", "s")
        page = reads.list_page(conn, key_id, 100, None)
        assert [job.id for job in page.jobs] == [job.id for job in store.list_jobs(db, key_id, limit=100)]
        second = reads.list_page(conn, key_id, 3, page.jobs[2].id)
        assert [j.id for j in second.jobs] == [
            j.id for j in store.list_jobs(db, key_id, limit=3, before=page.jobs[2].id)
        ]
        assert reads.owned_job(conn, key_id + 1, ids[0]) is None


def test_the_key_row_shows_revocation_and_balance_at_once(db: Database) -> None:
    new = create_key(db, "k", 1000)
    with db.write.begin() as session:
        session.add(jobs_in_every_state(new.id)[0])
    with db.read.kw["bind"].connect() as conn:
        row = reads.key_by_hash(conn, hash_key(new.key))
        assert row is not None and row.id == new.id and row.balance == 1000
        with db.write.begin() as session:
            session.execute(update(ApiKey).where(ApiKey.id == new.id).values(balance=5))
        conn.rollback()
        owned = reads.owned_job(conn, new.id, "req_queued_a")
        assert owned is not None and owned.balance == 5
        revoke_key(db, new.id)
        conn.rollback()
        assert reads.key_by_hash(conn, hash_key(new.key)) is None
        assert reads.key_revoked(conn, new.id)
        owned = reads.owned_job(conn, new.id, "req_queued_a")
        assert owned is not None and owned.revoked
