"""Transitions: exclusive claim, no completion after cancel, recovery, refunds exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from refvid.billing import balance_of, create_key
from refvid.billing.ledger import entries_for
from refvid.db import Database, utcnow
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Job, Status

from .helpers import submit

OUTCOME = lifecycle.Outcome(seed=7, width=1080, height=1080, frame_count=120, duration=5.0,
                            video_bytes=10, generation_seconds=1.0)


def _kinds(db: Database, job_id: str) -> list[str]:
    with db.read() as session:
        return [e.kind for e in entries_for(session, job_id)]


def test_claim_is_exclusive_and_fifo(db: Database) -> None:
    key = create_key(db, "k", 5000)
    a, b = submit(db, key.id, seed=1).job, submit(db, key.id, seed=2).job
    assert (claimed := lifecycle.claim(db, "w1")) is not None and claimed.id == a.id
    assert (claimed := lifecycle.claim(db, "w2")) is not None and claimed.id == b.id
    assert lifecycle.claim(db, "w3") is None


def test_cancel_wins_over_a_late_completion_and_refunds_once(db: Database) -> None:
    key = create_key(db, "k", 1000)
    job = submit(db, key.id).job
    lifecycle.claim(db, "w1")
    assert lifecycle.heartbeat(db, job.id, "w1", 0.5)
    assert lifecycle.cancel(db, job.id, reason="test", ttl=60)
    assert not lifecycle.still_mine(db, job.id, "w1")
    assert not lifecycle.heartbeat(db, job.id, "w1", 0.6)
    assert not lifecycle.complete(db, job.id, "w1", OUTCOME, ttl=60)
    assert not lifecycle.cancel(db, job.id, reason="again", ttl=60)
    assert not lifecycle.fail(db, job.id, http_status=500, code="x", message="x", ttl=60)
    assert _kinds(db, job.id) == ["charge", "refund"]
    assert balance_of(db, key.id) == 1000


def test_complete_only_by_the_owning_worker(db: Database) -> None:
    job = submit(db).job
    lifecycle.claim(db, "w1")
    assert not lifecycle.complete(db, job.id, "w2", OUTCOME, ttl=60)
    assert lifecycle.complete(db, job.id, "w1", OUTCOME, ttl=60)
    done = store.get_job(db, job.id)
    assert done is not None and done.status == Status.COMPLETED and done.seed == 7
    assert _kinds(db, job.id) == ["charge"]
    with db.read() as session:  # the references are not kept once the job is final
        assert session.scalar(select(Job.request_json).where(Job.id == job.id)) == "{}"


def test_recover_requeues_then_fails_and_refunds_at_max_attempts(db: Database) -> None:
    key = create_key(db, "k", 1000)
    job = submit(db, key.id).job
    lifecycle.claim(db, "w1")
    assert lifecycle.recover(db, dead_workers={"w1"}, stale_before=None, max_attempts=2, ttl=60) == [job.id]
    requeued = store.get_job(db, job.id)
    assert requeued is not None and requeued.status == Status.QUEUED and requeued.worker_id is None
    lifecycle.claim(db, "w2")
    # w2 is alive and fresh: nothing to do.
    assert lifecycle.recover(db, dead_workers={"w1"}, stale_before=None, max_attempts=2, ttl=60) == []
    # Its heartbeat goes stale: second start → failed with a reason, refunded.
    stale = utcnow() + timedelta(seconds=1)
    assert lifecycle.recover(db, dead_workers=set(), stale_before=stale, max_attempts=2, ttl=60) == [job.id]
    failed = store.get_job(db, job.id)
    assert failed is not None and failed.status == Status.FAILED and failed.error_code == "worker_lost"
    assert "not charged" in (failed.error_message or "")
    assert _kinds(db, job.id) == ["charge", "refund"] and balance_of(db, key.id) == 1000


def test_expiry_is_due_after_the_ttl(db: Database) -> None:
    job = submit(db).job
    lifecycle.cancel(db, job.id, reason="x", ttl=3600)
    assert lifecycle.due_for_expiry(db) == []
    assert lifecycle.due_for_expiry(db, utcnow() + timedelta(hours=2)) == [job.id]
    lifecycle.mark_expired(db, job.id)
    assert lifecycle.due_for_expiry(db, utcnow() + timedelta(hours=2)) == []


def test_release_requeues_without_counting_an_attempt(db: Database) -> None:
    job = submit(db).job
    lifecycle.claim(db, "w1")
    assert lifecycle.release(db, {"w1", "w9"}) == 1
    back = store.get_job(db, job.id)
    assert back is not None and back.status == Status.QUEUED and back.attempts == 0
    assert lifecycle.release(db, set()) == 0
