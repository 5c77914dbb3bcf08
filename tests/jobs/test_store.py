"""Submitting: charge and queue together, idempotency, queue bound, positions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from refvid.billing import balance_of, create_key
from refvid.db import Database
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Job
from refvid.request import GenerationRequest

from .helpers import submit


def test_submit_charges_and_queues_in_order(db: Database) -> None:
    key = create_key(db, "k", 2000)
    first = submit(db, key.id, seed=1).job
    second = submit(db, key.id, seed=2).job
    assert balance_of(db, key.id) == 0
    assert store.queue_position(db, first) == 1 and store.queue_position(db, second) == 2
    with pytest.raises(store.InsufficientCredits):
        submit(db, key.id, seed=3)
    assert store.queued_count(db) == 2  # the refused job was rolled back with its charge
    assert [j.id for j in store.list_jobs(db, key.id, limit=10)] == [second.id, first.id]


def test_idempotency_key_same_body_same_job_other_body_conflict(db: Database) -> None:
    key = create_key(db, "k", 5000)
    first = submit(db, key.id, seed=1, idempotency_key="abc")
    again = submit(db, key.id, seed=1, idempotency_key="abc")
    assert first.created and not again.created and again.job.id == first.job.id
    assert balance_of(db, key.id) == 4000
    with pytest.raises(store.IdempotencyConflict):
        submit(db, key.id, seed=2, idempotency_key="abc")


def test_queue_bound(db: Database) -> None:
    key = create_key(db, "k", 5000)
    submit(db, key.id, max_queue=1)
    with pytest.raises(store.QueueFull):
        submit(db, key.id, seed=2, max_queue=1)
    assert balance_of(db, key.id) == 4000


def test_get_job_is_scoped_to_its_key(db: Database) -> None:
    job = submit(db).job
    other = create_key(db, "other", 0)
    assert store.get_job(db, job.id) is not None
    assert store.get_job(db, job.id, key_id=other.id) is None


def test_seed_zero_is_made_concrete_once_when_accepted(db: Database) -> None:
    job = submit(db, seed=0).job
    assert job.seed is not None and 1 <= job.seed <= 999_999
    stored = GenerationRequest.model_validate_json(_request_json(db, job.id))
    assert stored.seed == job.seed
    # A crashed worker's job goes back to the queue with the same request, seed included.
    claimed = lifecycle.claim(db, "w1")
    assert claimed is not None
    assert lifecycle.recover(db, dead_workers={"w1"}, stale_before=None, max_attempts=3, ttl=60) == [job.id]
    again = lifecycle.claim(db, "w2")
    assert again is not None and GenerationRequest.model_validate_json(again.request_json).seed == job.seed


def _request_json(db: Database, job_id: str) -> str:
    with db.read() as session:
        return str(session.scalar(select(Job.request_json).where(Job.id == job_id)))
