"""v1, synchronous: the hosted endpoint's contract — POST the body, get the MP4 bytes back."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from refvid.api.deps import DECLARE_KEY, AppState, KeyDep, app_state, public_base
from refvid.api.downloads import stored_file
from refvid.api.errors import ApiError
from refvid.api.openapi import KEY_ERRORS, SUBMIT_ERRORS, errors
from refvid.api.submit import accept
from refvid.billing.credits import credits_number, format_credits
from refvid.billing.keys import balance_of, key_revoked
from refvid.documents import Credits
from refvid.jobs import lifecycle, store
from refvid.jobs.documents import links
from refvid.jobs.lifecycle import stop_revoked
from refvid.jobs.models import Job
from refvid.jobs.states import FINAL, Status
from refvid.request import GenerationRequest

router = APIRouter(tags=["v1 (synchronous)"])

ENDPOINT = "/v1/vidu-q1-reference-to-video"
CLIENT_CLOSED = 499
KEY_CHECK_SECONDS = 1.0  # how often a waiting v1 request re-checks that its key is still valid  # nginx's code: the client went away; it never sees this response


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
    checked = time.monotonic()
    while True:
        current = await run_in_threadpool(store.get_job, state.db, job.id)
        if current is None:  # pragma: no cover - only final, expired jobs are purged
            raise ApiError(500, "internal_error", "the request disappeared from the store")
        revoked = current.error_code == "key_revoked"
        if current.status in FINAL and not revoked:
            break
        if not revoked and time.monotonic() - checked >= KEY_CHECK_SECONDS:
            checked = time.monotonic()
            if await run_in_threadpool(key_revoked, state.db, key.id):
                await run_in_threadpool(stop_revoked, state.db, state.settings.result_ttl)
                revoked = True
        if revoked:
            raise ApiError(
                401, "invalid_api_key",
                "the API key was revoked while the video was being made; the request was "
                "cancelled and refunded — ask the operator for a new key",
            )
        if await request.is_disconnected():
            await run_in_threadpool(
                lambda: lifecycle.cancel(
                    state.db, job.id, reason="the client disconnected before the video was ready",
                    ttl=state.settings.result_ttl,
                )
            )
            return Response(status_code=CLIENT_CLOSED)
        if time.monotonic() > deadline:
            urls = links(current, public_base(request))
            raise ApiError(
                504, "timeout",
                f"the video was not ready within {state.settings.sync_timeout:g} s; it is still "
                f"being made — collect it with GET {urls.result_url} (request {job.id})",
                status_url=urls.status_url, result_url=urls.result_url,
            )
        await state.job_events.wait(job.id, poll)  # on PostgreSQL: until the job changes
    balance = await run_in_threadpool(balance_of, state.db, key.id)
    return await run_in_threadpool(_final_response, state, current, balance)


def _final_response(state: AppState, job: Job, balance: int) -> Response:
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
        # The bytes, as the hosted endpoint answers: never a redirect.
        answer = stored_file(state, job, "video.mp4", media_type="video/mp4", headers=headers, redirect=False)
        if answer is None:
            raise ApiError(410, "expired", f"the video of {job.id} is no longer available; send the request again")
        return answer
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
