"""Shared request plumbing: app state, authentication, rate limit, size-capped JSON bodies."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from refvid.api import jsonbody
from refvid.api.errors import ApiError, validation_message
from refvid.api.metrics import Metrics
from refvid.api.ratelimit import RateLimiter, retry_after
from refvid.billing.keys import authenticate
from refvid.billing.models import ApiKey
from refvid.config import Settings
from refvid.db import Database
from refvid.jobs.dispatch import LocalDispatcher

M = TypeVar("M", bound=BaseModel)


@dataclass
class AppState:
    """Everything a route needs, built once by the app factory."""

    settings: Settings
    db: Database
    limiter: RateLimiter
    metrics: Metrics
    dispatcher: LocalDispatcher | None = None
    # Submits whose inline references are decoded at the same time; the others wait.
    inline_checks: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(2))


def app_state(request: Request) -> AppState:
    """The state of the app serving ``request``."""
    state: AppState = request.app.state.refvid
    return state


# Declared for the OpenAPI document (Swagger UI's "Authorize"); require_key reads the header.
API_KEY_HEADER = APIKeyHeader(name="x-api-key", auto_error=False, description="Your refvid API key.")


async def require_key(
    request: Request, _declared: Annotated[str | None, Security(API_KEY_HEADER)] = None
) -> ApiKey:
    """The caller's API key from ``x-api-key`` (or ``Authorization: Bearer``), else 401."""
    key = request.headers.get("x-api-key")
    if not key:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            key = auth[7:].strip()
    if not key:
        raise ApiError(401, "missing_api_key", "no API key: send your key in the x-api-key header")
    row = await run_in_threadpool(authenticate, app_state(request).db, key)
    if row is None:
        raise ApiError(
            401, "invalid_api_key",
            "the API key is unknown or revoked: check the x-api-key header, or ask the operator "
            "for a new key",
        )
    return row


KeyDep = Annotated[ApiKey, Depends(require_key)]
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


def check_rate(request: Request, key: ApiKey) -> None:
    """429 with Retry-After when the key has used up its submits for now."""
    state = app_state(request)
    wait = state.limiter.acquire(key.id)
    if wait > 0:
        state.metrics.rejected.labels(reason="rate_limit").inc()
        raise ApiError(
            429, "rate_limited",
            f"too many requests: this key may submit {state.settings.rate_limit} per minute; "
            f"retry after {retry_after(wait)} s",
            headers=too_many(wait),
        )


async def read_json(request: Request) -> Any:
    """The JSON body, refused with 413 as soon as it grows past the configured limit."""
    limit = app_state(request).settings.max_body_bytes
    too_large = ApiError(
        413, "body_too_large",
        f"the request body is larger than {limit} bytes: send fewer or smaller images "
        "(or URLs instead of base64)",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    try:
        # A thread: a large body takes a while to parse, and the event loop serves everyone.
        return await run_in_threadpool(jsonbody.parse, b"".join(chunks))
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


def body_hash(model: BaseModel) -> str:
    """Canonical hash of a validated body, for Idempotency-Key comparison."""
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
