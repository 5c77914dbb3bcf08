"""Transitions: exclusive claim, no completion after cancel, recovery, refunds exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from refvid.billing import balance_of, create_key
from refvid.billing.ledger import entries_for
from refvid.db import Database, utcnow
from refvid.jobs import lifecycle, store
from refvid.jobs.models import Job, Status, WebhookAttempt
from refvid.request import GenerationRequest

from ..api.live import image_b64
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


def _webhook_state(db: Database, job_id: str) -> str | None:
    with db.read() as session:
        return session.scalar(select(Job.webhook_state).where(Job.id == job_id))


def test_a_job_cancelled_before_it_started_skips_its_webhook(db: Database) -> None:
    key = create_key(db, "k", 5000)
    submit(db, key.id)  # ahead in the queue
    queued = store.submit(db, key_id=key.id, request=_request(), body_hash="a", cost=1000,
                          max_queue=10, webhook_url="https://example.com/h").job  # fmt: skip
    started = store.submit(db, key_id=key.id, request=_request(), body_hash="b", cost=1000,
                           max_queue=10, webhook_url="https://example.com/h").job  # fmt: skip
    assert lifecycle.claim(db, "w1") is not None  # the helper's job
    assert lifecycle.cancel(db, queued.id, reason="test", ttl=60)
    assert _webhook_state(db, queued.id) == "skipped"
    claimed = lifecycle.claim(db, "w1")
    assert claimed is not None and claimed.id == started.id
    assert lifecycle.cancel(db, started.id, reason="test", ttl=60)
    assert _webhook_state(db, started.id) == "pending"  # it had started: its owner hears of it


def _request() -> GenerationRequest:
    return GenerationRequest(prompt="a scene", image_urls=[image_b64()], aspect_ratio="1:1", seed=7)


def _finish_long_ago(db: Database, job_id: str, days: float) -> None:
    when = utcnow() - timedelta(days=days)
    with db.write.begin() as session:
        session.execute(
            update(Job).where(Job.id == job_id).values(finished_at=when, expires_at=when + timedelta(days=1))
        )


def test_expiry_drops_the_payload_and_purge_drops_old_rows(db: Database) -> None:
    key = create_key(db, "k", 5000)
    payload = {"blob": "x" * 60_000}
    paid = store.submit(db, key_id=key.id, request=_request(), body_hash="p", cost=1000, max_queue=10,
                        payload=payload, webhook_url="https://example.com/h").job  # fmt: skip
    free = store.submit(db, key_id=key.id, request=_request(), body_hash="f", cost=1000, max_queue=10,
                        payload=payload).job  # fmt: skip
    recent = store.submit(db, key_id=key.id, request=_request(), body_hash="r", cost=1000,
                          max_queue=10).job  # fmt: skip
    assert lifecycle.claim(db, "w1") is not None
    assert lifecycle.complete(db, paid.id, "w1", OUTCOME, ttl=60)
    assert lifecycle.cancel(db, free.id, reason="test", ttl=60)
    assert lifecycle.cancel(db, recent.id, reason="test", ttl=60)
    with db.write.begin() as session:
        session.add(WebhookAttempt(job_id=paid.id, attempt=1, status_code=200, ok=True))
        session.execute(update(Job).where(Job.id == paid.id).values(webhook_state="delivered"))
    for job_id in (paid.id, free.id):
        _finish_long_ago(db, job_id, days=30)
    for job_id in lifecycle.due_for_expiry(db):
        lifecycle.mark_expired(db, job_id)
    with db.read() as session:
        assert session.scalar(select(Job.payload_json).where(Job.id == free.id)) is None
    assert lifecycle.purge(db, utcnow() - timedelta(days=7)) == 2
    assert store.get_job(db, paid.id) is None and store.get_job(db, free.id) is None
    assert store.get_job(db, recent.id) is not None  # finished just now: kept
    assert store.webhook_attempts(db, paid.id) == []
    assert _kinds(db, paid.id) == ["charge"]  # paid for: the charge stays on the books
    assert _kinds(db, free.id) == []  # charged and refunded: nothing left to account for
    assert balance_of(db, key.id) == 4000


def test_purge_keeps_a_job_whose_webhook_is_still_being_delivered(db: Database) -> None:
    key = create_key(db, "k", 5000)
    job = store.submit(db, key_id=key.id, request=_request(), body_hash="w", cost=1000, max_queue=10,
                       webhook_url="https://example.com/h").job  # fmt: skip
    assert lifecycle.fail(db, job.id, http_status=500, code="x", message="x", ttl=60)
    _finish_long_ago(db, job.id, days=30)
    lifecycle.mark_expired(db, job.id)
    assert lifecycle.purge(db, utcnow()) == 0
    with db.write.begin() as session:
        session.execute(update(Job).where(Job.id == job.id).values(webhook_state="failed"))
    assert lifecycle.purge(db, utcnow()) == 1
