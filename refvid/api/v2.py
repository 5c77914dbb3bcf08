"""v2, asynchronous: submit, status (and its event stream), result, files, cancel, list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from refvid.api.deps import app_state, require_key
from refvid.api.errors import ApiError
from refvid.api.schemas import AsyncGenerationRequest
from refvid.api.submit import accept
from refvid.billing.credits import format_credits
from refvid.billing.keys import balance_of
from refvid.billing.models import ApiKey
from refvid.jobs import lifecycle, store
from refvid.jobs.documents import links, result_document, status_document
from refvid.jobs.models import FINAL, Job, Status

router = APIRouter(tags=["v2 (asynchronous)"])

SSE_KEEPALIVE_SECONDS = 15.0
KeyDep = Annotated[ApiKey, Depends(require_key)]


@router.post(
    "/v2/vidu-q1-reference-to-video",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": AsyncGenerationRequest.model_json_schema()}
            },
        }
    },
    summary="Queue a request; answer at once with its id and URLs",
)
async def submit(request: Request) -> JSONResponse:
    """202 with the request id and where to poll; an Idempotency-Key replay returns the same."""
    state = app_state(request)
    key, job, created = await accept(request, sync=False)
    position = await run_in_threadpool(store.queue_position, state.db, job)
    balance = await run_in_threadpool(balance_of, state.db, key.id)
    body = {
        "request_id": job.id,
        "status": job.status,
        "queue_position": position,
        "cost": format_credits(job.cost),
        "remaining_credits": format_credits(balance),
        **links(job, str(request.base_url)),
    }
    headers = {"Idempotent-Replayed": "false" if created else "true"}
    return JSONResponse(body, status_code=202, headers=headers)


def _owned(request: Request, key: ApiKey, job_id: str) -> Job:
    job = store.get_job(app_state(request).db, job_id, key_id=key.id)
    if job is None:
        raise ApiError(404, "not_found", f"no request {job_id} for this API key; check the id")
    return job


def _status(request: Request, key: ApiKey, job_id: str) -> dict[str, Any]:
    db = app_state(request).db
    job = _owned(request, key, job_id)
    attempts = store.webhook_attempts(db, job.id) if job.webhook_url else []
    return status_document(job, store.queue_position(db, job), attempts)


@router.get("/v2/requests/{request_id}/status", summary="Status, progress and queue position")
def status(request_id: str, request: Request, key: KeyDep) -> dict[str, Any]:
    """The request's state; ``error`` is set when it failed."""
    return _status(request, key, request_id)


@router.get(
    "/v2/requests/{request_id}/status/stream",
    response_class=StreamingResponse,
    summary="Server-sent events with the status until a final state",
)
async def status_stream(request_id: str, request: Request, key: KeyDep) -> StreamingResponse:
    """``event: status`` on every change, then the stream ends after the final state."""
    first = await run_in_threadpool(_status, request, key, request_id)
    poll = max(0.1, app_state(request).settings.poll_interval)

    async def events() -> AsyncIterator[str]:
        doc, last, quiet = first, "", 0.0
        while True:
            text = json.dumps(doc)
            if text != last:
                yield f"event: status\ndata: {text}\n\n"
                last, quiet = text, 0.0
            elif quiet >= SSE_KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
            if doc["status"] in FINAL:  # a client that leaves is noticed by StreamingResponse
                return
            await asyncio.sleep(poll)
            quiet += poll
            doc = await run_in_threadpool(_status, request, key, request_id)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _not_expired(job: Job) -> None:
    if job.expired:
        raise ApiError(
            410, "expired",
            f"the results of {job.id} were deleted after the retention period; submit it again",
        )


@router.get("/v2/requests/{request_id}", summary="Result: URLs, seed, size, cost, timings")
def result(request_id: str, request: Request, key: KeyDep) -> dict[str, Any]:
    """The result document (``video_url`` is null until COMPLETED); 410 once expired."""
    state = app_state(request)
    job = _owned(request, key, request_id)
    _not_expired(job)
    return result_document(job, balance_of(state.db, key.id), str(request.base_url))


def _file(request: Request, key: ApiKey, request_id: str, name: str, media: str) -> FileResponse:
    state = app_state(request)
    job = _owned(request, key, request_id)
    _not_expired(job)
    if job.status != Status.COMPLETED:
        raise ApiError(
            409, "not_ready",
            f"request {job.id} is {job.status}; download the files once its status is COMPLETED",
        )
    path = state.settings.results_dir / job.id / name
    if not path.is_file():
        raise ApiError(410, "expired", f"the files of {job.id} are no longer available")
    return FileResponse(path, media_type=media, filename=f"{job.id}{path.suffix}")


@router.get("/v2/requests/{request_id}/video", response_class=FileResponse, summary="The MP4")
def video(request_id: str, request: Request, key: KeyDep) -> FileResponse:
    """Download the video."""
    return _file(request, key, request_id, "video.mp4", "video/mp4")


@router.get("/v2/requests/{request_id}/cover", response_class=FileResponse, summary="The JPEG cover")
def cover(request_id: str, request: Request, key: KeyDep) -> FileResponse:
    """Download the cover image."""
    return _file(request, key, request_id, "cover.jpg", "image/jpeg")


@router.post("/v2/requests/{request_id}/cancel", summary="Cancel and refund an unfinished request")
def cancel(request_id: str, request: Request, key: KeyDep) -> dict[str, Any]:
    """Cancel a QUEUED or PROCESSING request; its cost is refunded. 409 once final."""
    state = app_state(request)
    job = _owned(request, key, request_id)
    if not lifecycle.cancel(state.db, job.id, reason="cancelled by the client", ttl=state.settings.result_ttl):
        current = _owned(request, key, request_id)
        raise ApiError(
            409, "already_final",
            f"request {job.id} is already {current.status} and can no longer be cancelled",
        )
    doc = _status(request, key, request_id)
    doc["refunded"] = format_credits(job.cost)
    doc["remaining_credits"] = format_credits(balance_of(state.db, key.id))
    return doc


@router.get("/v2/requests", summary="The caller's own requests, newest first")
def list_requests(
    request: Request,
    key: KeyDep,
    limit: int = Query(20, ge=1, le=100, description="Page size."),
    before: str | None = Query(None, description="next_before of the previous page."),
) -> dict[str, Any]:
    """One page; pass ``next_before`` back as ``before`` for the next."""
    state = app_state(request)
    jobs = store.list_jobs(state.db, key.id, limit=limit + 1, before=before)
    page = jobs[:limit]
    return {
        "data": [
            {**status_document(job, None, []), **_list_links(job, str(request.base_url))}
            for job in page
        ],
        "next_before": page[-1].id if len(jobs) > limit else None,
    }


def _list_links(job: Job, base_url: str) -> dict[str, str]:
    urls = links(job, base_url)
    return {name: urls[name] for name in ("status_url", "result_url")}
