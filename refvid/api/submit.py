"""Accepting a request (v1 and v2 alike): rate limit, validation, charge and queue.

Everything that can refuse a request runs before the charge: the body, its fields, the
webhook address and the inline (base64 / data URI) references, which are decoded here in
a bounded thread pool. URL references are downloaded by the worker that renders, so a URL
that cannot be fetched fails the request after it was queued (and refunds it).
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from refvid.api import reads
from refvid.api.bodies import discard_body
from refvid.api.deps import (
    app_state,
    body_hash,
    check_rate,
    parse,
    public_base,
    read_json,
    require_json,
    require_key,
    too_many,
)
from refvid.api.errors import ApiError, request_id_of
from refvid.api.ratelimit import retry_after
from refvid.api.reads import KeyRow
from refvid.api.schemas import AsyncGenerationRequest
from refvid.billing.credits import format_credits, price
from refvid.billing.keys import balance_of
from refvid.errors import InvalidReference
from refvid.jobs import store
from refvid.jobs.models import Job
from refvid.jobs.webhooks import check_webhook_url
from refvid.references import check_inline
from refvid.request import GenerationRequest

IDEMPOTENCY_MAX = 255


async def check_references(request: Request, key: KeyRow, generation: GenerationRequest) -> None:
    """400 naming the first base64 / data-URI reference that would not decode; nothing charged."""
    state = app_state(request)
    try:
        await anyio.to_thread.run_sync(check_inline, generation.image_urls, limiter=state.inline_checks)
    except InvalidReference as exc:
        balance = await run_in_threadpool(balance_of, state.db, key.id)
        raise ApiError(
            400, "invalid_reference", f"{exc}; fix or replace this image and retry",
            index=exc.index, remaining_credits=format_credits(balance),
        ) from None


async def require_funds(request: Request, key: KeyRow) -> None:
    """406 before the body is read when the key cannot pay for even the cheapest request.

    The body is drained (never kept) first, so clients that send it whole before reading
    the answer still see the 406. An Idempotency-Key already used by this key is let
    through: replaying a request costs nothing.
    """
    state = app_state(request)
    cheapest = min(price(state.settings, 5), price(state.settings, 10))
    # Read now, not from the key (which may be up to a second old): a submit a moment ago
    # may have spent the credits, or the operator just added some.
    balance = await state.reads.run(reads.balance, key.id)
    if balance >= cheapest:
        return
    idem = request.headers.get("idempotency-key")
    if idem:
        replay: bool = await run_in_threadpool(store.has_idempotency_key, state.db, key.id, idem)
        if replay:
            return
    state.metrics.rejected.labels(reason="credits").inc()
    await discard_body(
        request, limit=state.settings.max_body_bytes, timeout=state.settings.body_timeout
    )
    raise ApiError(
        406, "insufficient_credits",
        f"not enough credits: the key has {format_credits(balance)} and the cheapest "
        f"request costs {format_credits(cheapest)}; ask the operator to add credits",
        cost=format_credits(cheapest), remaining_credits=format_credits(balance),
    )


async def accept(request: Request, *, sync: bool) -> tuple[KeyRow, Job, bool]:
    """Authenticate, validate and queue the body; returns (key, job, created).

    The body is held in memory only within the body budget, and only for a key that can
    pay; it is parsed once and serialised once (the stored request, also what is hashed).
    """
    state = app_state(request)
    key = await require_key(request)
    require_json(request)
    await require_funds(request, key)
    await check_rate(request, key)
    async with state.bodies.hold(key.id) as reservation:
        data = await read_json(request, reservation)
        return await _queue(request, key, data, sync=sync)


async def _queue(request: Request, key: KeyRow, data: Any, *, sync: bool) -> tuple[KeyRow, Job, bool]:
    state = app_state(request)
    model: GenerationRequest = parse(GenerationRequest if sync else AsyncGenerationRequest, data)
    del data
    webhook_url: str | None = None
    payload: Any = None
    generation = model
    if isinstance(model, AsyncGenerationRequest):
        webhook_url, payload, generation = model.webhook_url, model.payload, model.generation()
        if webhook_url is not None:
            try:
                await run_in_threadpool(check_webhook_url, webhook_url, state.settings)
            except ValueError as exc:
                raise ApiError(
                    422, "invalid_field", f"invalid request — webhook_url: {exc}",
                    fields=[{"field": "webhook_url", "message": str(exc)}],
                ) from None
    idem = request.headers.get("idempotency-key")
    if idem is not None and not 1 <= len(idem) <= IDEMPOTENCY_MAX:
        raise ApiError(
            422, "invalid_header", f"Idempotency-Key must be 1–{IDEMPOTENCY_MAX} characters long"
        )
    await check_references(request, key, generation)
    cost = price(state.settings, generation.duration)
    request_json = generation.model_dump_json()
    digest = body_hash(request_json, {"webhook_url": webhook_url, "payload": payload})
    try:
        submitted = await run_in_threadpool(
            lambda: store.submit(
                state.db, key_id=key.id, request=generation, body_hash=digest, cost=cost,
                max_queue=state.settings.max_queue, webhook_url=webhook_url, payload=payload,
                idempotency_key=idem, sync=sync, base_url=public_base(request),
                job_id=request_id_of(request), request_json=request_json, pool=state.settings.pool,
            )
        )
    except store.InsufficientCredits:
        balance = await run_in_threadpool(balance_of, state.db, key.id)
        state.metrics.rejected.labels(reason="credits").inc()
        raise ApiError(
            406, "insufficient_credits",
            f"not enough credits: this request costs {format_credits(cost)} and the key has "
            f"{format_credits(balance)}; ask the operator to add credits, or request a shorter video",
            cost=format_credits(cost), remaining_credits=format_credits(balance),
        ) from None
    except store.QueueFull as exc:
        state.metrics.rejected.labels(reason="queue_full").inc()
        wait = min(60.0, 2.0 * state.settings.max_queue / max(1, state.settings.workers))
        raise ApiError(
            429, "queue_full", f"{exc}; retry after {retry_after(wait)} s", headers=too_many(wait)
        ) from None
    except store.IdempotencyConflict as exc:
        raise ApiError(409, "idempotency_conflict", str(exc)) from None
    request.scope["state"]["job_id"] = submitted.job.id
    if submitted.created:
        state.metrics.submits.labels(api="v1" if sync else "v2").inc()
    return key, submitted.job, submitted.created
