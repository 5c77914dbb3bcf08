"""v1, synchronous: the hosted endpoint's contract — POST the body, get the MP4 bytes back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from refvid.api.deps import DECLARE_KEY, KeyDep, app_state
from refvid.api.errors import ApiError
from refvid.api.openapi import KEY_ERRORS, SUBMIT_ERRORS, errors
from refvid.api.submit import accept
from refvid.billing.credits import credits_number, format_credits
from refvid.billing.keys import balance_of
from refvid.documents import Credits
from refvid.jobs import lifecycle, store
from refvid.jobs.documents import links
from refvid.jobs.models import Job
from refvid.jobs.states import FINAL, Status
from refvid.request import GenerationRequest

router = APIRouter(tags=["v1 (synchronous)"])

ENDPOINT = "/v1/vidu-q1-reference-to-video"
CLIENT_CLOSED = 499  # nginx's code: the client went away; it never sees this response


@router.post(
    ENDPOINT,
    response_class=Response,
    dependencies=DECLARE_KEY,
    responses={
        200: {
            "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The MP4 bytes; `x-seed-value`, `x-cost`, `x-remaining-credits`, "
            "`x-generation-time` and `x-request-id` headers.",
        },
        **errors(*SUBMIT_ERRORS, 500, 503, 504),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": GenerationRequest.model_json_schema()}},
        }
    },
    summary="Render and return the MP4 (hosted-compatible)",
)
async def generate_sync(request: Request) -> Response:
    """Queue the request and hold the connection until the video is ready."""
    state = app_state(request)
    key, job, _ = await accept(request, sync=True)
    deadline = time.monotonic() + state.settings.sync_timeout
    poll = state.settings.poll_interval
    while True:
        current = await run_in_threadpool(store.get_job, state.db, job.id)
        if current is None:  # pragma: no cover - jobs are never deleted
            raise ApiError(500, "internal_error", "the request disappeared from the store")
        if current.status in FINAL:
            break
        if await request.is_disconnected():
            await run_in_threadpool(
                lambda: lifecycle.cancel(
                    state.db, job.id, reason="the client disconnected before the video was ready",
                    ttl=state.settings.result_ttl,
                )
            )
            return Response(status_code=CLIENT_CLOSED)
        if time.monotonic() > deadline:
            urls = links(current, str(request.base_url))
            raise ApiError(
                504, "timeout",
                f"the video was not ready within {state.settings.sync_timeout:g} s; it is still "
                f"being made — collect it with GET {urls.result_url} (request {job.id})",
                status_url=urls.status_url, result_url=urls.result_url,
            )
        await asyncio.sleep(poll)
    balance = await run_in_threadpool(balance_of, state.db, key.id)
    return _final_response(current, balance, state.settings.results_dir)


def _final_response(job: Job, balance: int, results_dir: Path) -> Response:
    if job.status == Status.COMPLETED and job.expired:
        raise ApiError(
            410, "expired", f"the video of {job.id} was deleted after the retention period; "
            "send the request again with a new Idempotency-Key",
        )
    if job.status == Status.COMPLETED:
        headers = {
            "x-remaining-credits": format_credits(balance),
            "x-cost": format_credits(job.cost),
            "x-generation-time": f"{job.generation_seconds or 0:.3f}",
            "x-seed-value": str(job.seed),
            "x-request-id": job.id,
        }
        return FileResponse(results_dir / job.id / "video.mp4", media_type="video/mp4", headers=headers)
    if job.status == Status.CANCELLED:
        raise ApiError(
            409, "cancelled", f"the request was cancelled ({job.error_message}); it was not charged",
            remaining_credits=format_credits(balance),
        )
    raise ApiError(
        job.error_status or 500, job.error_code or "internal_error",
        job.error_message or "the render failed", remaining_credits=format_credits(balance),
    )


@router.get(
    "/v1/get-user-credits",
    response_model=Credits,
    responses=errors(*KEY_ERRORS),
    summary="The API key's remaining credits",
)
def get_user_credits(request: Request, key: KeyDep) -> Credits:
    """The balance of the key in ``x-api-key``, as the hosted gateway's endpoint gives it."""
    balance = balance_of(app_state(request).db, key.id)
    return Credits(credits=credits_number(balance), remaining_credits=format_credits(balance))
