"""Building the documents of :mod:`refvid.documents` from a job row: status, result, links."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from refvid.billing.credits import credits_number, format_credits
from refvid.documents import (
    Links,
    Metrics,
    ResultDocument,
    StatusDocument,
    Timings,
    WebhookAttemptDocument,
    WebhookDocument,
)
from refvid.jobs.models import Job, WebhookAttempt
from refvid.jobs.states import Status, WebhookState

DOWNLOADS = {"video": "video.mp4", "cover": "cover.jpg"}
"""The files of a finished job, by the name of their URL."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def links(job: Job, base_url: str | None = None) -> Links:
    """Absolute URLs of everything a client can fetch for this job."""
    base = (base_url or job.base_url).rstrip("/") + f"/v2/requests/{job.id}"
    return Links(
        status_url=f"{base}/status",
        response_url=base,
        result_url=base,
        stream_url=f"{base}/status/stream",
        cancel_url=f"{base}/cancel",
        video_url=f"{base}/video",
        cover_url=f"{base}/cover",
    )


def download_token(secret: str, job_id: str, what: str) -> str:
    """The token that lets ``?token=`` download a job's ``video`` or ``cover`` without the key.

    An HMAC with the owning key's secret: it cannot be made without the key's secret, it
    works only for that job and file, and it stops working when the results expire or the
    key is revoked.
    """
    message = f"refvid-download:{job_id}:{what}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def error_text(job: Job) -> str | None:
    """Why the job failed or was cancelled, as the ``error`` string of its documents."""
    if job.status == Status.CANCELLED:
        return f"the request was cancelled ({job.error_message}); it was not charged"
    if job.error_code is None:
        return None
    return job.error_message or "the render failed"


def metrics_of(job: Job, remaining: int) -> Metrics:
    """The gateway's ``metrics``: what the request cost and how long each phase took."""
    refunded = job.status in (Status.FAILED, Status.CANCELLED)
    return Metrics(
        cost=0.0 if refunded else credits_number(job.cost),
        remaining_credits=credits_number(remaining),
        inference_time=job.generation_seconds,
        queue_time=_seconds(job.created_at, job.started_at),
        total_time=_seconds(job.created_at, job.finished_at),
    )


def status_document(
    job: Job, queue_position: int | None, attempts: list[WebhookAttempt], remaining: int
) -> StatusDocument:
    """What ``GET /v2/requests/{id}/status`` answers."""
    webhook = None
    if job.webhook_url:
        webhook = WebhookDocument(
            url=job.webhook_url,
            state=job.webhook_state,
            next_attempt_at=(
                _iso(job.webhook_next_at) if job.webhook_state == WebhookState.PENDING else None
            ),
            attempts=[
                WebhookAttemptDocument(
                    attempt=a.attempt, at=_iso(a.at), status_code=a.status_code, ok=a.ok, error=a.error
                )
                for a in attempts
            ],
        )
    return StatusDocument(
        request_id=job.id,
        status=job.status,
        progress=round(job.progress, 4),
        queue_position=queue_position,
        error=error_text(job),
        code=job.error_code,
        metrics=metrics_of(job, remaining),
        created_at=_iso(job.created_at),
        started_at=_iso(job.started_at),
        finished_at=_iso(job.finished_at),
        attempts=job.attempts,
        webhook=webhook,
    )


def result_of(
    job: Job, remaining: int, base_url: str | None = None, secret: str | None = None
) -> ResultDocument:
    """What ``GET /v2/requests/{id}`` answers; ``secret`` (the key's) signs ``output``."""
    completed = job.status == Status.COMPLETED and not job.expired
    urls = links(job, base_url)
    output = None
    if completed:
        output = urls.video_url
        if secret:
            output += f"?token={download_token(secret, job.id, 'video')}"
    return ResultDocument(
        request_id=job.id,
        status=job.status,
        output=output,
        video_url=urls.video_url if completed else None,
        cover_url=urls.cover_url if completed else None,
        seed=job.seed,
        width=job.width,
        height=job.height,
        duration=job.duration,
        frame_count=job.frame_count,
        video_bytes=job.video_bytes,
        cost=format_credits(job.cost),
        refunded=job.status in (Status.FAILED, Status.CANCELLED),
        remaining_credits=format_credits(remaining),
        timings=Timings(
            queued_seconds=_seconds(job.created_at, job.started_at),
            generation_seconds=job.generation_seconds,
            total_seconds=_seconds(job.created_at, job.finished_at),
        ),
        metrics=metrics_of(job, remaining),
        error=error_text(job),
        code=job.error_code,
        expired=job.expired,
        expires_at=_iso(job.expires_at),
        payload=None if job.payload_json is None else json.loads(job.payload_json),
        created_at=_iso(job.created_at),
        finished_at=_iso(job.finished_at),
    )


def result_document(
    job: Job, remaining: int, base_url: str | None = None, secret: str | None = None
) -> dict[str, Any]:
    """The result as JSON-ready data: the body of the webhook."""
    return result_of(job, remaining, base_url, secret).model_dump(mode="json")
