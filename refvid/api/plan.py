"""``POST /v2/plan``: the engine's shot plan for a request body — free, nothing rendered.

The body is the v2 submit body (``webhook_url`` and ``payload`` are accepted and ignored).
The references are decoded exactly as a worker would (so a bad image is refused here with
the same 400), then the engine plans: shots, framing, camera moves, transitions and, with
``bgm``, the music. No credits move. Plans have their own per-key rate limit
(``REFVID_PLAN_RATE_LIMIT``) and run one at a time per server, in a thread, so a burst of
previews cannot starve the status routes. Inline references decoded for one plan are kept
(by content hash, bounded in bytes) for the next: a page redraws the plan at every pause in
typing, with the same images.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from refvid.api.deps import app_state, parse, read_json, require_json, require_key, too_many
from refvid.api.errors import ApiError
from refvid.api.openapi import errors
from refvid.api.ratelimit import RateLimiter, retry_after
from refvid.api.schemas import AsyncGenerationRequest
from refvid.billing.credits import format_credits, price
from refvid.billing.keys import balance_of
from refvid.config import Settings
from refvid.db import Database
from refvid.errors import EngineUnavailable, InvalidReference
from refvid.references import Reference, ReferencePolicy, load_reference
from refvid.request import GenerationRequest

DECODED_CACHE_BYTES = 192 * 1024 * 1024  # five 12-megapixel photos

router = APIRouter(tags=["v2 (asynchronous)"])


class PlanAnswer(BaseModel):
    """What ``POST /v2/plan`` answers."""

    plan: dict[str, Any] = Field(
        description="The engine's plan, as `refvid plan` prints it: seed, size, cut_times and, "
        "for the motion engine, shots (image, framing, move, transition_in, start_s, end_s, …); "
        "music with bgm."
    )
    cost: str = Field(description="Credits a submit of this body would be charged (nothing is, here).")
    remaining_credits: str = Field(description="The key's balance.")


class DecodedCache:
    """Inline references decoded for earlier plans, by content hash; least recently used go first.

    URLs are fetched again every time (what they point at may change). Cached pixels are
    read-only, so an engine cannot change what the next plan sees.
    """

    def __init__(self, max_bytes: int = DECODED_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Reference] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def load(self, sources: Sequence[str], policy: ReferencePolicy) -> list[Reference]:
        """Like ``load_references``: the first bad source raises ``InvalidReference``."""
        references = []
        for index, source in enumerate(sources):
            if source.strip()[:8].lower().startswith(("http://", "https://")):
                references.append(load_reference(index, source, policy))
                continue
            digest = hashlib.sha256(source.encode()).hexdigest()
            with self._lock:
                known = self._items.get(digest)
                if known is not None:
                    self._items.move_to_end(digest)
            if known is None:
                known = load_reference(index, source, policy)
                known.image.flags.writeable = False
                self._put(digest, known)
            references.append(Reference(index, known.image, known.label))
        return references

    def _put(self, digest: str, reference: Reference) -> None:
        size = reference.image.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            if digest in self._items:
                return
            self._items[digest] = reference
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.image.nbytes


class _PlanGate:
    """Per app: the plan rate limiter, one planning thread at a time, the decoded references."""

    def __init__(self, db: Database, per_minute: int) -> None:
        self.rate = RateLimiter(db, "plan", per_minute)
        self.threads = anyio.CapacityLimiter(1)
        self.decoded = DecodedCache()


def _gate(request: Request) -> _PlanGate:
    # Created on first use, on the event loop (no await before it), so no race.
    gate: _PlanGate | None = getattr(request.app.state, "plan_gate", None)
    if gate is None:
        state = app_state(request)
        gate = _PlanGate(state.db, state.settings.plan_rate_limit)
        request.app.state.plan_gate = gate
    return gate


def make_plan_document(
    settings: Settings, request: GenerationRequest, decoded: DecodedCache | None = None
) -> dict[str, Any]:
    """Decode the references and plan; raises InvalidReference / EngineUnavailable."""
    from refvid.engines import get_engine
    from refvid.generate import make_plan

    decoded = decoded if decoded is not None else DecodedCache()
    references = decoded.load(request.image_urls, ReferencePolicy.for_server(settings))
    return make_plan(request, references, get_engine(settings.engine)).to_dict()


@router.post(
    "/v2/plan",
    response_model=PlanAnswer,
    responses=errors(400, 401, 406, 408, 413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": AsyncGenerationRequest.model_json_schema()}
            },
        }
    },
    summary="The shot plan a request would get: free, rate limited, nothing rendered",
)
async def plan(request: Request) -> JSONResponse:
    """``plan`` (what ``refvid plan`` prints), what submitting would ``cost``, the balance.

    Seed 0 plans with a random seed, reported in ``plan.seed``: submit that seed to get
    exactly this plan.
    """
    state = app_state(request)
    key = await require_key(request)
    gate = _gate(request)
    wait = await run_in_threadpool(gate.rate.acquire, key.id)
    if wait > 0:
        raise ApiError(
            429, "rate_limited",
            f"too many plan requests: this key may ask for {state.settings.plan_rate_limit} "
            f"plans per minute; retry after {retry_after(wait)} s",
            headers=too_many(wait),
        )
    require_json(request)
    try:
        # Free, but its body counts against the same budget as a submit's while it is planned.
        async with state.bodies.hold(key.id) as reservation:
            data = await read_json(request, reservation)
            generation = parse(AsyncGenerationRequest, data).generation().with_seed()
            del data
            document = await anyio.to_thread.run_sync(
                make_plan_document, state.settings, generation, gate.decoded, limiter=gate.threads
            )
    except InvalidReference as exc:
        field = f"image_urls[{exc.index}]"
        raise ApiError(
            400, "invalid_reference", f"{exc}; fix or replace this image",
            fields=[{"field": field, "message": exc.detail}],
        ) from None
    except EngineUnavailable as exc:
        raise ApiError(
            503, "engine_unavailable", f"{exc}; the operator must fix the engine set-up"
        ) from None
    balance = await run_in_threadpool(balance_of, state.db, key.id)
    cost = price(state.settings, generation.duration)
    answer = PlanAnswer(plan=document, cost=format_credits(cost), remaining_credits=format_credits(balance))
    return JSONResponse(answer.model_dump(mode="json"))
