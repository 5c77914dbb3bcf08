"""v2, asynchronous: submit, status (and its event stream), result, files, cancel, list.

A Segmind client reads these as it reads the hosted queue's: submit answers ``request_id``,
``status_url`` and ``response_url``; a request that FAILED answers 422 on its status and
result URLs (the body still carries ``status`` and ``error``), and a CANCELLED one 409, so
a client that only knows COMPLETED and FAILED as final stops waiting either way.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from refvid.api import reads
from refvid.api.deps import (
    DECLARE_KEY,
    KeyDep,
    app_state,
    invalid_key,
    public_base,
    require_key,
    too_many,
)
from refvid.api.downloads import stored_file
from refvid.api.errors import ApiError
from refvid.api.openapi import KEY_ERRORS, SUBMIT_ERRORS, errors, file_responses
from refvid.api.reads import KeyRow
from refvid.api.schemas import AsyncGenerationRequest
from refvid.api.streams import STREAM_RETRY_SECONDS, StreamsFull
from refvid.api.submit import accept
from refvid.billing.credits import format_credits
from refvid.billing.keys import balance_of
from refvid.billing.models import ApiKey
from refvid.documents import (
    Cancelled,
    ListedRequest,
    RequestList,
    ResultDocument,
    StatusDocument,
    Submitted,
)
from refvid.jobs import lifecycle, store
from refvid.jobs.documents import DOWNLOADS, download_token, links, result_of, status_document
from refvid.jobs.models import Job
from refvid.jobs.states import Status

router = APIRouter(tags=["v2 (asynchronous)"])

SSE_KEEPALIVE_SECONDS = 15.0
ENDED = {Status.FAILED: 422, Status.CANCELLED: 409}
"""HTTP status of the status and result documents of a request that ended without a video."""


@router.post(
    "/v2/vidu-q1-reference-to-video",
    status_code=202,
    response_model=Submitted,
    dependencies=DECLARE_KEY,
    responses=errors(*SUBMIT_ERRORS),
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
    body = Submitted(
        request_id=job.id,
        status=job.status,
        queue_position=position,
        cost=format_credits(job.cost),
        remaining_credits=format_credits(balance),
        **links(job, public_base(request)).model_dump(),
    )
    headers = {"Idempotent-Replayed": "false" if created else "true"}
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers=headers)


def _not_found(job_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no request {job_id} for this API key; check the id")


def _owned(request: Request, key: KeyRow, job_id: str) -> Job:
    job = store.get_job(app_state(request).db, job_id, key_id=key.id)
    if job is None:
        raise _not_found(job_id)
    return job


def _read_owned(conn: Connection, key_id: int, job_id: str) -> reads.OwnedJob:
    """The caller's job with its key's balance; 404 if not theirs, 401 once the key is revoked."""
    owned = reads.owned_job(conn, key_id, job_id)
    if owned is None:
        raise _not_found(job_id)
    if owned.revoked:
        raise invalid_key()
    return owned


def _read_status(conn: Connection, key_id: int, job_id: str) -> StatusDocument:
    owned = _read_owned(conn, key_id, job_id)
    job = owned.job
    return status_document(
        job, reads.queue_position(conn, job), reads.webhook_attempts(conn, job), owned.balance
    )


async def _status(request: Request, key: KeyRow, job_id: str) -> StatusDocument:
    state = app_state(request)
    try:
        return await state.reads.run(_read_status, key.id, job_id)
    except ApiError as exc:
        if exc.status == 401:
            state.keys.forget(key.id)
        raise


def _answer(doc: BaseModel, status: Status) -> JSONResponse:
    return JSONResponse(doc.model_dump(mode="json"), status_code=ENDED.get(status, 200))


@router.get(
    "/v2/requests/{request_id}/status",
    response_model=StatusDocument,
    responses={
        422: {"model": StatusDocument, "description": "The request FAILED; `error` says why."},
        409: {"model": StatusDocument, "description": "The request was CANCELLED (and refunded)."},
        **errors(*KEY_ERRORS, 404),
    },
    summary="Status, progress, queue position and metrics",
)
async def status(request_id: str, request: Request, key: KeyDep) -> JSONResponse:
    """The request's state; 422 once it FAILED, 409 once CANCELLED (``error`` says why)."""
    return await status_answer(request, key, request_id)


async def status_answer(request: Request, key: KeyRow, request_id: str) -> JSONResponse:
    """The status route's answer (also what :mod:`refvid.api.fastlane` sends)."""
    doc = await _status(request, key, request_id)
    return _answer(doc, doc.status)


@router.get(
    "/v2/requests/{request_id}/status/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
              "description": "`event: status` with a status document on every change."},
        **errors(*KEY_ERRORS, 404, 429),
    },
    summary="Server-sent events with the status until a final state",
)
async def status_stream(request_id: str, request: Request, key: KeyDep) -> StreamingResponse:
    """``event: status`` on every change, then the stream ends after the final state.

    Streams are capped per key and in total (429 beyond); all streams of one request share
    one poll of the store. If the key is revoked meanwhile, an ``event: error`` ends it.
    """
    state = app_state(request)
    first = await _status(request, key, request_id)
    hub = state.streams
    try:
        hub.admit(key.id)
    except StreamsFull as exc:
        state.metrics.rejected.labels(reason="streams").inc()
        wait = STREAM_RETRY_SECONDS
        raise ApiError(
            429, "too_many_streams", f"{exc}; or retry after {wait:g} s", headers=too_many(wait)
        ) from None

    async def load() -> tuple[StatusDocument | None, bool]:
        return await state.reads.run(_watch, key.id, request_id)

    async def events() -> AsyncIterator[str]:
        try:
            async for update in hub.updates(request_id, first, load, SSE_KEEPALIVE_SECONDS):
                if update.revoked:
                    error = {
                        "error": "the API key was revoked; this stream ends and the request was "
                        "cancelled", "code": "invalid_api_key",
                    }
                    yield f"event: error\ndata: {json.dumps(error)}\n\n"
                elif update.document is not None:
                    yield f"event: status\ndata: {update.document.model_dump_json()}\n\n"
                else:
                    yield ": keep-alive\n\n"
        finally:
            hub.release(key.id)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _watch(conn: Connection, key_id: int, job_id: str) -> tuple[StatusDocument | None, bool]:
    """One poll for a status feed: the document (None once purged) and whether the key is revoked."""
    owned = reads.owned_job(conn, key_id, job_id)
    if owned is None:
        return None, reads.key_revoked(conn, key_id)
    if owned.revoked:
        return None, True
    job = owned.job
    document = status_document(
        job, reads.queue_position(conn, job), reads.webhook_attempts(conn, job), owned.balance
    )
    return document, False


def _not_expired(job: Job) -> None:
    if job.expired:
        raise ApiError(
            410, "expired",
            f"the results of {job.id} were deleted after the retention period; submit it again",
        )


@router.get(
    "/v2/requests/{request_id}",
    response_model=ResultDocument,
    responses={
        422: {"model": ResultDocument, "description": "The request FAILED; `error` says why."},
        409: {"model": ResultDocument, "description": "The request was CANCELLED (and refunded)."},
        **errors(*KEY_ERRORS, 404, 410),
    },
    summary="Result: output URL, seed, size, metrics, timings",
)
async def result(request_id: str, request: Request, key: KeyDep) -> JSONResponse:
    """The result document (``output`` is null until COMPLETED); 410 once expired."""
    state = app_state(request)
    try:
        owned = await state.reads.run(_read_owned, key.id, request_id)
    except ApiError as exc:
        if exc.status == 401:
            state.keys.forget(key.id)
        raise
    _not_expired(owned.job)
    doc = result_of(owned.job, owned.balance, public_base(request), key.webhook_secret)
    return _answer(doc, doc.status)


def _by_token(request: Request, job_id: str, what: str, token: str) -> Job:
    """The job whose ``what`` this token may download (the signed ``output`` URL)."""
    db = app_state(request).db
    with db.read() as session:
        job = session.get(Job, job_id)
        owner = None if job is None else session.scalar(select(ApiKey).where(ApiKey.id == job.key_id))
    valid = (
        job is not None and owner is not None and owner.revoked_at is None
        and hmac.compare_digest(download_token(owner.webhook_secret, job_id, what), token)
    )
    if job is None or not valid:
        raise ApiError(
            404, "not_found",
            f"no {what} of request {job_id} for this link; check the URL, or download it with "
            "your x-api-key",
        )
    return job


async def _file(request: Request, request_id: str, what: str, token: str | None) -> Response:
    state = app_state(request)
    if token is not None:
        job = await run_in_threadpool(_by_token, request, request_id, what, token)
    else:
        key = await require_key(request)
        job = await run_in_threadpool(_owned, request, key, request_id)
    _not_expired(job)
    if job.status != Status.COMPLETED:
        raise ApiError(
            409, "not_ready",
            f"request {job.id} is {job.status}; download the files once its status is COMPLETED",
        )
    media = "video/mp4" if what == "video" else "image/jpeg"
    name = DOWNLOADS[what]
    answer = await run_in_threadpool(
        stored_file, state, job, name, media_type=media, filename=f"{job.id}{PurePath(name).suffix}"
    )
    if answer is None:
        raise ApiError(410, "expired", f"the files of {job.id} are no longer available")
    return answer


TokenQuery = Annotated[
    str | None,
    Query(description="The token of a signed link (the result's `output`): no API key needed."),
]


@router.get(
    "/v2/requests/{request_id}/video",
    response_class=FileResponse,
    responses=file_responses("video/mp4"),
    summary="The MP4 (with the API key, or the signed `output` link)",
)
async def video(request_id: str, request: Request, token: TokenQuery = None) -> Response:
    """Download the video."""
    return await _file(request, request_id, "video", token)


@router.get(
    "/v2/requests/{request_id}/cover",
    response_class=FileResponse,
    responses=file_responses("image/jpeg"),
    summary="The JPEG cover",
)
async def cover(request_id: str, request: Request, token: TokenQuery = None) -> Response:
    """Download the cover image."""
    return await _file(request, request_id, "cover", token)


@router.post(
    "/v2/requests/{request_id}/cancel",
    response_model=Cancelled,
    responses=errors(*KEY_ERRORS, 404, 409),
    summary="Cancel and refund an unfinished request",
)
def cancel(request_id: str, request: Request, key: KeyDep) -> Cancelled:
    """Cancel a QUEUED or PROCESSING request; its cost is refunded. 409 once final."""
    state = app_state(request)
    job = _owned(request, key, request_id)
    if not lifecycle.cancel(state.db, job.id, reason="cancelled by the client", ttl=state.settings.result_ttl):
        current = _owned(request, key, request_id)
        raise ApiError(
            409, "already_final",
            f"request {job.id} is already {current.status} and can no longer be cancelled",
        )
    with state.reads.engine.connect() as conn:  # a thread of the pool: a connection of its own
        doc = _read_status(conn, key.id, request_id)
    return Cancelled(
        **doc.model_dump(),
        refunded=format_credits(job.cost),
        remaining_credits=format_credits(balance_of(state.db, key.id)),
    )


@router.get(
    "/v2/requests",
    response_model=RequestList,
    responses=errors(*KEY_ERRORS, 422),
    summary="The caller's own requests, newest first",
)
async def list_requests(
    request: Request,
    key: KeyDep,
    limit: int = Query(20, ge=1, le=100, description="Page size."),
    before: str | None = Query(None, description="next_before of the previous page."),
) -> JSONResponse:
    """One page; pass ``next_before`` back as ``before`` for the next."""
    state = app_state(request)
    found = await state.reads.run(reads.list_page, key.id, limit + 1, before)
    if found.revoked:
        state.keys.forget(key.id)
        raise invalid_key()
    jobs = found.jobs
    page = jobs[:limit]
    balance = found.balance
    base = public_base(request)
    data: list[Any] = []
    for job in page:
        urls = links(job, base)
        data.append(
            ListedRequest(
                **status_document(job, None, [], balance).model_dump(),
                status_url=urls.status_url, response_url=urls.response_url, result_url=urls.result_url,
            )
        )
    listed = RequestList(data=data, next_before=page[-1].id if len(jobs) > limit else None)
    return JSONResponse(listed.model_dump(mode="json"))
