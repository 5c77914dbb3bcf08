"""Signed webhook delivery with retries on a backoff schedule; every attempt is recorded.

Signature: ``X-Refvid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>``,
with the key's webhook secret; receivers verify it with :func:`verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from refvid.billing.keys import balance_of
from refvid.billing.models import ApiKey
from refvid.config import Settings
from refvid.db import Database, utcnow
from refvid.jobs.documents import result_document
from refvid.jobs.models import Job, WebhookAttempt
from refvid.references.fetch import ResolvedTarget, UrlRejected, check_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Refvid-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp + "." + body``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={sign(secret, ts, body)}"


def verify_signature(secret: str, body: bytes, header: str, tolerance: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` s old."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), parts.get("v1", ""))


def check_webhook_url(url: str, settings: Settings) -> ResolvedTarget:
    """The checked, resolved target of ``url``; ValueError saying why if it may not be called."""
    try:
        return check_url(url, allowed_networks=list(settings.allow_private_networks))
    except UrlRejected as exc:
        raise ValueError(str(exc)) from None


def _post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    # Resolve once, check, and connect to that address only (no DNS rebinding between
    # the check and the connection); redirects are not followed.
    target = check_webhook_url(url, settings)
    # trust_env=False: a proxy from the environment would resolve the host itself and
    # undo the address check_url pinned.
    with httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False, trust_env=False) as client:
        response = client.post(
            target.pinned_url, content=body, headers={**headers, "Host": target.host_header},
            extensions=target.extensions,
        )
        return response.status_code


def deliver(db: Database, settings: Settings, job_id: str) -> bool:
    """Make one delivery attempt for a job whose webhook is pending; True when delivered."""
    with db.read() as session:
        job = session.get(Job, job_id)
        if job is None or job.webhook_state != "pending" or not job.webhook_url:
            return False
        secret = session.scalar(select(ApiKey.webhook_secret).where(ApiKey.id == job.key_id)) or ""
        done = session.scalar(
            select(WebhookAttempt.attempt)
            .where(WebhookAttempt.job_id == job_id)
            .order_by(WebhookAttempt.attempt.desc())
            .limit(1)
        )
    attempt = int(done or 0) + 1
    body = json.dumps(result_document(job, balance_of(db, job.key_id), secret=secret), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secret, body),
        "X-Refvid-Request-Id": job.id,
        "X-Refvid-Attempt": str(attempt),
    }
    status_code: int | None = None
    error: str | None = None
    try:
        status_code = _post(job.webhook_url, body, headers, settings)
        ok = 200 <= status_code < 300
        if not ok:
            error = f"receiver answered HTTP {status_code}"
    except Exception as exc:  # any failure is recorded and retried, never raised
        ok = False
        error = f"{type(exc).__name__}: {exc}"[:500]
    backoff = settings.webhook_backoff
    if ok:
        state, next_at = "delivered", None
    elif attempt <= len(backoff):
        state, next_at = "pending", utcnow() + timedelta(seconds=backoff[attempt - 1])
    else:
        state, next_at = "failed", None
    with db.write.begin() as session:
        session.add(
            WebhookAttempt(job_id=job_id, attempt=attempt, status_code=status_code, error=error, ok=ok)
        )
        session.execute(
            update(Job).where(Job.id == job_id).values(webhook_state=state, webhook_next_at=next_at)
        )
    log.info("webhook %s attempt %d: %s", job_id, attempt, state if ok else error)
    return ok


def due(db: Database) -> list[str]:
    """Jobs whose webhook should be attempted now."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Job.id).where(Job.webhook_state == "pending", Job.webhook_next_at <= utcnow())
            ).all()
        )


class WebhookSender(threading.Thread):
    """Background thread that delivers due webhooks until stopped."""

    def __init__(self, db: Database, settings: Settings, interval: float = 0.2) -> None:
        super().__init__(name="refvid-webhooks", daemon=True)
        self.db, self.settings, self.interval = db, settings, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                for job_id in due(self.db):
                    deliver(self.db, self.settings, job_id)
            except Exception:  # keep the sender alive across database hiccups
                log.exception("webhook sender")
