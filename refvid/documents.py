"""The JSON documents of the HTTP API, as pydantic models: what the server sends, the client reads.

The shapes follow the hosted gateway where a Segmind client reads them — ``error`` is a
human-readable string, submit answers ``request_id``/``status_url``/``response_url``, a
result carries ``status``, ``output`` and ``metrics`` — and add refvid's own fields beside
them, never instead of them. Only pydantic and the state enums are imported here, so the
Python client can use these models without the server's dependencies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from refvid.jobs.states import Status, WebhookState


class _Document(BaseModel):
    # Extra keys are kept (not refused) so an older client reads a newer server's documents.
    model_config = ConfigDict(extra="allow")


class FieldError(_Document):
    """One invalid field of a request and what is wrong with it."""

    field: str = Field(description="Where: `duration`, `image_urls[2]`, `payload.a[0]`.")
    message: str


class ErrorBody(_Document):
    """Every error answer: ``error`` says what to change; the rest is for programs."""

    error: str = Field(description="What went wrong and what to change, for people.")
    code: str = Field(description="Machine-readable reason, e.g. `invalid_field`.")
    request_id: str = Field(description="Also in the `x-request-id` header; quote it in reports.")
    fields: list[FieldError] | None = Field(None, description="422: every invalid field.")
    index: int | None = Field(None, description="400: the position of the bad reference in `image_urls`.")
    cost: str | None = Field(None, description="406: what the request costs.")
    remaining_credits: str | None = Field(None, description="The key's balance.")
    status_url: str | None = Field(None, description="504: where to follow the request.")
    result_url: str | None = Field(None, description="504: where to collect the result.")


class Metrics(_Document):
    """Cost and timings, named as the hosted gateway names them (credits as numbers, seconds)."""

    cost: float = Field(description="Credits this request cost (0 once refunded).")
    remaining_credits: float = Field(description="The key's balance now.")
    inference_time: float | None = Field(description="Seconds spent rendering.")
    queue_time: float | None = Field(description="Seconds spent waiting for a worker.")
    total_time: float | None = Field(description="Seconds from submit to the final state.")


class Links(_Document):
    """Every URL a client can use for one request."""

    status_url: str
    response_url: str = Field(description="The result document (the same as `result_url`).")
    result_url: str
    stream_url: str
    cancel_url: str
    video_url: str
    cover_url: str


class Submitted(Links):
    """``202`` of ``POST /v2/vidu-q1-reference-to-video``."""

    request_id: str
    status: Status
    queue_position: int | None
    cost: str = Field(description="Credits charged, as an exact decimal string.")
    remaining_credits: str


class WebhookAttemptDocument(_Document):
    """One delivery attempt of a webhook."""

    attempt: int
    at: str | None
    status_code: int | None
    ok: bool
    error: str | None


class WebhookDocument(_Document):
    """Where a request's webhook goes, and how its delivery went."""

    url: str
    state: WebhookState | None
    next_attempt_at: str | None
    attempts: list[WebhookAttemptDocument]


class StatusDocument(_Document):
    """``GET /v2/requests/{id}/status``: state, progress and metrics, never the output.

    A FAILED request is answered with HTTP 422 and a CANCELLED one with 409; ``error`` then
    says why (and ``code`` beside it), as the body of any other error does.
    """

    request_id: str
    status: Status
    progress: float = Field(description="0–1.")
    queue_position: int | None = Field(description="1 for the next to start; null once started.")
    error: str | None = Field(description="Why the request failed or was cancelled.")
    code: str | None = Field(description="Machine-readable reason beside `error`.")
    metrics: Metrics
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    attempts: int = Field(description="Times a worker started it.")
    webhook: WebhookDocument | None = None


class ListedRequest(StatusDocument):
    """One entry of ``GET /v2/requests``."""

    status_url: str
    response_url: str
    result_url: str


class RequestList(_Document):
    """One page of a key's requests, newest first."""

    data: list[ListedRequest]
    next_before: str | None = Field(description="Pass as `before` for the next page; null on the last.")


class Cancelled(StatusDocument):
    """``POST /v2/requests/{id}/cancel``: the status after cancelling, and the refund."""

    refunded: str = Field(description="Credits given back.")
    remaining_credits: str


class Timings(_Document):
    """Seconds spent in each phase (refvid's names; ``metrics`` has the gateway's)."""

    queued_seconds: float | None
    generation_seconds: float | None
    total_seconds: float | None


class ResultDocument(_Document):
    """``GET /v2/requests/{id}`` (the ``response_url``), and the body of the webhook.

    ``output`` is the video's download URL once COMPLETED (signed, so it works without the
    API key, like the hosted gateway's); the cover and everything else sit beside it.
    """

    request_id: str
    status: Status
    output: str | None = Field(description="The MP4's URL (no key needed) once COMPLETED.")
    video_url: str | None = Field(description="The MP4 (with the `x-api-key` header).")
    cover_url: str | None = Field(description="The JPEG cover (with the `x-api-key` header).")
    seed: int | None = Field(description="The seed used (concrete from the moment it was accepted).")
    width: int | None
    height: int | None
    duration: float | None
    frame_count: int | None
    video_bytes: int | None
    cost: str
    refunded: bool
    remaining_credits: str
    timings: Timings
    metrics: Metrics
    error: str | None
    code: str | None
    expired: bool
    expires_at: str | None
    payload: Any = Field(description="The `payload` sent with the request, as sent.")
    created_at: str | None
    finished_at: str | None


class Credits(_Document):
    """``GET /v1/get-user-credits``: the key's balance."""

    credits: float = Field(description="The balance as a number.")
    remaining_credits: str = Field(description="The same, as an exact decimal string.")


class Health(_Document):
    """``GET /healthz``."""

    status: str


class PoolState(_Document):
    """One queue as the database sees it, across every node: what an autoscaler reads."""

    queued: int = Field(description="Requests waiting in this pool.")
    nodes: int = Field(description="Registered nodes (serve or worker) that claim from it.")
    slots: int = Field(description="Render processes those nodes are configured to run.")
    workers: int = Field(description="Render processes running now, as last reported.")
    last_seen_seconds: float | None = Field(description="Age of the freshest node report.")


class Readiness(_Document):
    """``GET /readyz`` when ready (503 with an error body otherwise)."""

    status: str
    workers: int = Field(description="Render processes of this node.")
    problems: list[str]
    pools: dict[str, PoolState] = Field(default_factory=dict, description="Every pool, from the database.")


class NotReady(ErrorBody):
    """``GET /readyz`` when not ready."""

    status: str
    workers: int
    problems: list[str]
    pools: dict[str, PoolState] = Field(default_factory=dict)
