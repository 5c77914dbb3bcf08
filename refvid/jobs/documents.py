"""The JSON documents that describe a job: status, result, webhook body. Plain dicts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from refvid.billing.credits import format_credits
from refvid.jobs.models import Job, Status, WebhookAttempt


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def links(job: Job, base_url: str | None = None) -> dict[str, str]:
    """Absolute URLs of everything a client can fetch for this job."""
    base = (base_url or job.base_url).rstrip("/") + f"/v2/requests/{job.id}"
    return {
        "status_url": f"{base}/status",
        "stream_url": f"{base}/status/stream",
        "result_url": base,
        "cancel_url": f"{base}/cancel",
        "video_url": f"{base}/video",
        "cover_url": f"{base}/cover",
    }


def error_of(job: Job) -> dict[str, Any] | None:
    """The job's error as ``{"code", "message"}``, if it has one."""
    if job.error_code is None:
        return None
    return {"code": job.error_code, "message": job.error_message, "status": job.error_status}


def status_document(
    job: Job, queue_position: int | None, attempts: list[WebhookAttempt]
) -> dict[str, Any]:
    """What ``GET /v2/requests/{id}/status`` answers."""
    doc: dict[str, Any] = {
        "request_id": job.id,
        "status": job.status,
        "progress": round(job.progress, 4),
        "queue_position": queue_position,
        "error": error_of(job),
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "attempts": job.attempts,
    }
    if job.webhook_url:
        doc["webhook"] = {
            "url": job.webhook_url,
            "state": job.webhook_state,
            "next_attempt_at": _iso(job.webhook_next_at) if job.webhook_state == "pending" else None,
            "attempts": [
                {
                    "attempt": a.attempt,
                    "at": _iso(a.at),
                    "status_code": a.status_code,
                    "ok": a.ok,
                    "error": a.error,
                }
                for a in attempts
            ],
        }
    return doc


def result_document(job: Job, remaining: int, base_url: str | None = None) -> dict[str, Any]:
    """What ``GET /v2/requests/{id}`` answers, and the body of the webhook."""
    completed = job.status == Status.COMPLETED and not job.expired
    urls = links(job, base_url)
    return {
        "request_id": job.id,
        "status": job.status,
        "video_url": urls["video_url"] if completed else None,
        "cover_url": urls["cover_url"] if completed else None,
        "seed": job.seed,
        "width": job.width,
        "height": job.height,
        "duration": job.duration,
        "frame_count": job.frame_count,
        "video_bytes": job.video_bytes,
        "cost": format_credits(job.cost),
        "refunded": job.status in (Status.FAILED, Status.CANCELLED),
        "remaining_credits": format_credits(remaining),
        "timings": {
            "queued_seconds": _seconds(job.created_at, job.started_at),
            "generation_seconds": job.generation_seconds,
            "total_seconds": _seconds(job.created_at, job.finished_at),
        },
        "error": error_of(job),
        "expired": job.expired,
        "expires_at": _iso(job.expires_at),
        "payload": None if job.payload_json is None else json.loads(job.payload_json),
        "created_at": _iso(job.created_at),
        "finished_at": _iso(job.finished_at),
    }
