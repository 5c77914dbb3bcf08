"""Shared request plumbing: app state, authentication, rate limit, size-capped JSON bodies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from refvid.api import jsonbody
from refvid.api.bodies import BodyBudget, Reservation, read_body
from refvid.api.errors import ApiError, validation_message
from refvid.api.keycache import KeyCache
from refvid.api.metrics import Metrics
from refvid.api.ratelimit import RateLimiter, retry_after
from refvid.api.reads import KeyRow, ReadPath, key_by_hash
from refvid.api.streams import StreamHub
from refvid.billing.keys import hash_key
from refvid.config import Settings
from refvid.db import Database
from refvid.jobs.dispatch import LocalDispatcher
from refvid.jobs.notify import JobEvents
from refvid.storage import LocalStorage, Storage

M = TypeVar("M", bound=BaseModel)
HASH_SLICE = 1 << 20


@dataclass
class AppState:
    """Everything a route needs, built once by the app factory."""

    settings: Settings
    db: Database
    limiter: RateLimiter
    metrics: Metrics
    dispatcher: LocalDispatcher | None = None
    # Render workers alive now: this process's dispatcher's, or as the parent of several
    # API processes reports them (refvid.api.serving).
    workers_alive: Callable[[], int] = lambda: 0
    # Submits whose inline references are decoded at the same time; the others wait.
    inline_checks: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(2))
    # Bytes of request bodies in memory at once (REFVID_BODY_BUFFER_BYTES).
    bodies: BodyBudget = field(default_factory=lambda: BodyBudget(256 * 1024 * 1024))
    # Open status streams and their shared feeds (REFVID_SSE_PER_KEY, REFVID_SSE_TOTAL).
    streams: StreamHub = field(default_factory=lambda: StreamHub(per_key=20, total=200, poll=0.1))
    # Wake-ups of v1 waits and status streams: one LISTEN connection per process (PostgreSQL).
    job_events: JobEvents = field(default_factory=lambda: JobEvents(None))
    # Where results live (REFVID_RESULTS_URL): a local folder or an S3-compatible bucket.
    storage: Storage = field(default_factory=lambda: LocalStorage(Path("results")))
    # Keys checked in the last second (a revocation or credit change reaches them within it).
    keys: KeyCache = field(default_factory=KeyCache)
    # The lean reads of the routes clients poll (refvid.api.reads).
    reads: ReadPath = field(init=False)

    def __post_init__(self) -> None:
        self.reads = ReadPath(self.db)


def app_state(request: Request) -> AppState:
    """The state of the app serving ``request``."""
    state: AppState = request.app.state.refvid
    return state


def public_base(request: Request) -> str:
    """Base URL for links to this server: ``REFVID_PUBLIC_URL`` if set, else the request's own.

    The request's base URL comes from its ``Host`` header, which the client chooses; behind
    a proxy, or to keep links from naming whatever host a caller sent, set the public URL.
    """
    configured = app_state(request).settings.public_url
    return configured + "/" if configured else str(request.base_url)


# Declared for the OpenAPI document (Swagger UI's "Authorize"); require_key reads the header.
API_KEY_HEADER = APIKeyHeader(name="x-api-key", auto_error=False, description="Your refvid API key.")


INVALID_KEY = (
    "the API key is unknown or revoked: check the x-api-key header, or ask the operator for a new key"
)


def invalid_key() -> ApiError:
    """The 401 of a key that is unknown or revoked."""
    return ApiError(401, "invalid_api_key", INVALID_KEY)


async def require_key(
    request: Request, _declared: Annotated[str | None, Security(API_KEY_HEADER)] = None
) -> KeyRow:
    """The caller's API key from ``x-api-key`` (or ``Authorization: Bearer``), else 401.

    Remembered for up to a second (:mod:`refvid.api.keycache`).
    """
    key = request.headers.get("x-api-key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
    if not key:
        raise ApiError(401, "missing_api_key", "no API key: send your key in the x-api-key header")
    state = app_state(request)
    key_hash = hash_key(key)
    row = state.keys.get(key_hash)
    if row is None:
        row = await state.reads.run(key_by_hash, key_hash)
        if row is None:
            raise invalid_key()
        state.keys.put(key_hash, row)
    return row


KeyDep = Annotated[KeyRow, Depends(require_key)]
DECLARE_KEY = [Security(API_KEY_HEADER)]
"""``dependencies=`` of a route that authenticates inside its handler: the document says so."""


def reset_at(seconds: float) -> str:
    """The ``x-rate-limit-reset-at-utc`` value: when a retry may succeed, ISO 8601 UTC."""
    at = datetime.now(UTC) + timedelta(seconds=float(retry_after(seconds)))
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def too_many(wait: float) -> dict[str, str]:
    """The headers of a 429: ``Retry-After`` and the gateway's ``x-rate-limit-reset-at-utc``."""
    return {"Retry-After": retry_after(wait), "x-rate-limit-reset-at-utc": reset_at(wait)}


def require_json(request: Request) -> None:
    """406 unless the body is declared ``application/json`` (the gateway's answer)."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media != "application/json":
        shown = f"'{declared[:100]}'" if declared else "missing"
        raise ApiError(
            406, "unsupported_media_type",
            f"the Content-Type header is {shown}; send the body as JSON with "
            "Content-Type: application/json",
        )


async def check_rate(request: Request, key: KeyRow) -> None:
    """429 with Retry-After when the key has used up its submits for now (every process counts)."""
    state = app_state(request)
    wait = await run_in_threadpool(state.limiter.acquire, key.id)
    if wait > 0:
        state.metrics.rejected.labels(reason="rate_limit").inc()
        raise ApiError(
            429, "rate_limited",
            f"too many requests: this key may submit {state.settings.rate_limit} per minute; "
            f"retry after {retry_after(wait)} s",
            headers=too_many(wait),
        )


async def read_json(request: Request, reservation: Reservation) -> Any:
    """The JSON body, counted against the body budget (see :mod:`refvid.api.bodies`).

    413 as soon as it grows past the configured limit, 503 when too many bodies are in
    memory at once, 408 when it arrives too slowly; 422 when it is not JSON.
    """
    settings = app_state(request).settings
    raw = await read_body(
        request, reservation, limit=settings.max_body_bytes, timeout=settings.body_timeout
    )
    try:
        # A thread: a large body takes a while to parse, and the event loop serves everyone.
        return await run_in_threadpool(jsonbody.parse, raw)
    except jsonbody.NotJson as exc:
        raise ApiError(
            422, "invalid_json",
            f"{exc}; send a JSON object with Content-Type: application/json",
        ) from None
    except jsonbody.TooDeep as exc:
        raise ApiError(
            422, "invalid_field", f"invalid request — {exc}",
            fields=[{"field": exc.field, "message": str(exc).split(": ", 1)[1]}],
        ) from None


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` against ``model``; 422 naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_field", "the body must be a JSON object with the documented fields")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, fields = validation_message(exc)
        raise ApiError(422, "invalid_field", message, fields=fields) from None


def body_hash(request_json: str, extras: dict[str, Any]) -> str:
    """Hash of a validated body for Idempotency-Key comparison, from its one serialisation.

    ``request_json`` is the request as it will be stored (hashed a slice at a time, so no
    second copy of a body of base64 images is made); ``extras`` are the small fields kept
    beside it (webhook URL, payload), hashed with sorted keys.
    """
    digest = hashlib.sha256()
    for start in range(0, len(request_json), HASH_SLICE):
        digest.update(request_json[start : start + HASH_SLICE].encode())
    digest.update(b"\n" + json.dumps(extras, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()
