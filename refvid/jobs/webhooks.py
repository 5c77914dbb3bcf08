"""Signed webhook delivery with retries on a backoff schedule; every attempt is recorded.

Signature: ``X-Refvid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>``,
with the key's webhook secret; receivers verify it with :func:`verify_signature`.

Receivers are strangers: each attempt has one wall-clock deadline (``REFVID_WEBHOOK_TIMEOUT``)
over resolving, connecting, sending and the answer's headers; only the status code matters,
so at most :data:`ANSWER_READ_LIMIT` bytes of the answer's body are read. Deliveries run on a
small pool (``REFVID_WEBHOOK_CONCURRENCY``) with at most ``REFVID_WEBHOOK_PER_HOST`` in flight
to one receiver host and for one API key, so one slow receiver cannot hold the others up. Each delivery is claimed in the database
first, so with senders on several API nodes every attempt is still sent once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update

from refvid.billing.keys import balance_of
from refvid.billing.models import ApiKey
from refvid.config import Settings
from refvid.db import Database, db_now
from refvid.jobs.documents import result_document
from refvid.jobs.models import Job, WebhookAttempt, WebhookState
from refvid.net.deadline import blocking, pinned_client, run_with_deadline
from refvid.net.policy import ResolvedTarget, UrlRejected, check_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Refvid-Signature"
ANSWER_READ_LIMIT: Final = 4096


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp + "." + body``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={sign(secret, ts, body)}"


def verify_signature(secret: str, body: bytes, header: str, tolerance: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` s old.

    Anything else — a missing part, non-ASCII text, a header that is not a string — is
    False, never an exception: the header comes from whoever reached the receiver.
    """
    if isinstance(header, bytes):
        header = header.decode("latin-1")
    if not isinstance(header, str) or not header.isascii():
        return False
    try:
        parts = dict(item.strip().split("=", 1) for item in header.split(","))
        timestamp, given = parts["t"], parts["v1"]
        ts = int(timestamp) if timestamp.isdigit() else None
    except (KeyError, ValueError):
        return False
    if ts is None or abs(time.time() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body).encode(), given.encode())


def check_webhook_url(url: str, settings: Settings) -> ResolvedTarget:
    """The checked, resolved target of ``url``; ValueError saying why if it may not be called."""
    try:
        return check_url(url, allowed_networks=list(settings.allow_private_networks))
    except UrlRejected as exc:
        raise ValueError(str(exc)) from None


async def _post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    # Resolve once, check, and connect to that address only (no DNS rebinding between
    # the check and the connection); redirects are not followed.
    target = await blocking(check_webhook_url, url, settings)
    async with pinned_client(settings.webhook_timeout) as client:
        request = client.build_request(
            "POST", target.pinned_url, content=body,
            headers={**headers, "Host": target.host_header}, extensions=target.extensions,
        )
        response = await client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():  # a little, so short answers end cleanly
                read += len(chunk)
                if read >= ANSWER_READ_LIMIT:
                    break
        finally:
            await response.aclose()
        return response.status_code


def post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    """POST ``body`` to ``url`` and return the answer's status, within ``webhook_timeout``."""
    try:
        return run_with_deadline(lambda: _post(url, body, headers, settings), settings.webhook_timeout)
    except TimeoutError:
        raise TimeoutError(
            f"the receiver did not answer within {settings.webhook_timeout:g} s"
        ) from None


CLAIM_MARGIN_SECONDS = 30.0  # a claim outlives the attempt's own deadline by this much


def _claim(db: Database, job_id: str, hold: float) -> int | None:
    """Take the job's next delivery for this sender; its attempt number, or None if not ours.

    One conditional UPDATE: however many nodes run senders, one of them wins each due
    delivery. A sender that dies mid-attempt lets the claim lapse, and the delivery is due
    again ``hold`` seconds later.
    """
    with db.write.begin() as session:
        result = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.webhook_state == WebhookState.PENDING,
                Job.webhook_next_at <= db_now(),
                or_(Job.webhook_claimed_until.is_(None), Job.webhook_claimed_until < db_now()),
            )
            .values(webhook_claimed_until=db_now(hold))
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        done = session.scalar(select(func.max(WebhookAttempt.attempt)).where(WebhookAttempt.job_id == job_id))
    return int(done or 0) + 1


def deliver(db: Database, settings: Settings, job_id: str) -> bool:
    """Claim and make one delivery attempt for a job whose webhook is due; True when delivered."""
    with db.read() as session:
        job = session.get(Job, job_id)
        if job is None or job.webhook_state != WebhookState.PENDING or not job.webhook_url:
            return False
        owner = session.get(ApiKey, job.key_id)
    if owner is None or owner.revoked_at is not None:  # a revoked key's webhooks stop
        with db.write.begin() as session:
            session.execute(
                update(Job).where(Job.id == job_id)
                .values(webhook_state=WebhookState.SKIPPED, webhook_next_at=None, webhook_claimed_until=None)
            )
        return False
    attempt = _claim(db, job_id, settings.webhook_timeout + CLAIM_MARGIN_SECONDS)
    if attempt is None:  # another sender has it, or it is not due
        return False
    secret = owner.webhook_secret
    document = result_document(job, balance_of(db, job.key_id), settings.public_url or None, secret)
    body = json.dumps(document, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secret, body),
        "X-Refvid-Request-Id": job.id,
        "X-Refvid-Attempt": str(attempt),
    }
    status_code: int | None = None
    error: str | None = None
    try:
        status_code = post(job.webhook_url, body, headers, settings)
        ok = 200 <= status_code < 300
        if not ok:
            error = f"receiver answered HTTP {status_code}"
    except Exception as exc:  # any failure is recorded and retried, never raised
        ok = False
        error = f"{type(exc).__name__}: {exc}"[:500]
    backoff = settings.webhook_backoff
    if ok:
        state, next_at = WebhookState.DELIVERED, None
    elif attempt <= len(backoff):
        state, next_at = WebhookState.PENDING, db_now(backoff[attempt - 1])
    else:
        state, next_at = WebhookState.FAILED, None
    with db.write.begin() as session:
        session.add(
            WebhookAttempt(job_id=job_id, attempt=attempt, status_code=status_code, error=error, ok=ok)
        )
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.webhook_state == WebhookState.PENDING)
            .values(webhook_state=state, webhook_next_at=next_at, webhook_claimed_until=None)
        )
    log.info("webhook %s attempt %d: %s", job_id, attempt, state if ok else error)
    return ok


@dataclass(frozen=True)
class Due:
    """A webhook to attempt now: whose, and where to."""

    job_id: str
    key_id: int
    host: str


def due(db: Database, limit: int = 200, skip_keys: Iterable[int] = ()) -> list[Due]:
    """Webhooks that should be attempted now, the longest-waiting first.

    ``skip_keys`` leaves out keys that may not start another delivery now, so that one
    key's backlog cannot fill the page and hide everyone else's.
    """
    query = (
        select(Job.id, Job.key_id, Job.webhook_url)
        .where(
            Job.webhook_state == WebhookState.PENDING,
            Job.webhook_next_at <= db_now(),
            or_(Job.webhook_claimed_until.is_(None), Job.webhook_claimed_until < db_now()),
        )
        .order_by(Job.webhook_next_at)
        .limit(limit)
    )
    skipped = list(skip_keys)
    if skipped:
        query = query.where(Job.key_id.not_in(skipped))
    with db.read() as session:
        rows = session.execute(query).all()
    return [Due(job_id, key_id, _host(url or "")) for job_id, key_id, url in rows]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class WebhookSender(threading.Thread):
    """Background thread that hands due webhooks to a small pool of delivery threads.

    A webhook is not started while ``per_host`` deliveries to its host, or for its key,
    are in flight; it stays due and is picked up on a later round.
    """

    def __init__(self, db: Database, settings: Settings, interval: float = 0.2) -> None:
        super().__init__(name="refvid-webhooks", daemon=True)
        self.db, self.settings, self.interval = db, settings, interval
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(
            max_workers=settings.webhook_concurrency, thread_name_prefix="refvid-webhook"
        )
        self._lock = threading.Lock()
        self._busy: dict[str, Due] = {}

    @property
    def in_flight(self) -> int:
        """Deliveries running now."""
        with self._lock:
            return len(self._busy)

    def dispatch(self) -> int:
        """Start every due delivery the caps allow; returns how many were started."""
        started = 0
        capacity = self.settings.webhook_concurrency
        cap = self.settings.webhook_per_host
        with self._lock:
            if len(self._busy) >= capacity:
                return 0
            per_key = Counter(d.key_id for d in self._busy.values())
        for item in due(self.db, skip_keys=[k for k, n in per_key.items() if n >= cap]):
            with self._lock:
                if len(self._busy) >= capacity:
                    break
                hosts = Counter(d.host for d in self._busy.values())
                keys = Counter(d.key_id for d in self._busy.values())
                if item.job_id in self._busy or hosts[item.host] >= cap or keys[item.key_id] >= cap:
                    continue
                self._busy[item.job_id] = item
            self._pool.submit(self._deliver, item)
            started += 1
        return started

    def _deliver(self, item: Due) -> None:
        try:
            deliver(self.db, self.settings, item.job_id)
        except Exception:  # a database hiccup: the webhook stays due and is retried
            log.exception("webhook %s", item.job_id)
        finally:
            with self._lock:
                self._busy.pop(item.job_id, None)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.dispatch()
            except Exception:  # keep the sender alive across database hiccups
                log.exception("webhook sender")
        # Running attempts end at their own deadline; nothing new starts.
        self._pool.shutdown(wait=False, cancel_futures=True)
