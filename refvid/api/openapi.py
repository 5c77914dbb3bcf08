"""What the OpenAPI document says about responses: the error answers each route can give."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from refvid.documents import ErrorBody

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "A reference could not be fetched or decoded; `index` names it. Not billed.",
    401: "No API key, or an unknown or revoked one.",
    404: "No such request for this key (or no such endpoint).",
    406: "Not enough credits (`cost`, `remaining_credits`), or the body is not "
    "`Content-Type: application/json`.",
    409: "Conflict: an Idempotency-Key reused with another body, a request already final, "
    "or files not ready yet.",
    410: "The results were deleted after the retention period.",
    413: "The body is larger than the server accepts.",
    422: "An invalid field (`fields` lists each), invalid JSON or an invalid header.",
    429: "Rate limit or full queue: retry after `Retry-After` seconds "
    "(`x-rate-limit-reset-at-utc` says when).",
    500: "Internal error, never a stack trace; the request is refunded.",
    503: "The engine cannot run here, or the server is not ready.",
    504: "v1 waited too long; the request goes on (`status_url`, `result_url`).",
}

KEY_ERRORS = (401,)
SUBMIT_ERRORS = (400, 401, 406, 409, 413, 422, 429)

RATE_HEADERS: dict[str, Any] = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}},
    "x-rate-limit-reset-at-utc": {
        "description": "When to retry, as an ISO 8601 UTC time (`2026-01-31T12:00:05Z`).",
        "schema": {"type": "string"},
    },
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for these error statuses, each with the error body's schema."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]}
        if status == 429:
            entry["headers"] = RATE_HEADERS
        out[status] = entry
    return out


def file_responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    """A download: the file itself, or an error."""
    return {
        200: {
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            "description": "The file.",
        },
        **errors(401, 404, 409, 410),
    }


def install(app: FastAPI) -> None:
    """Generate the document once, saying what the server really answers.

    FastAPI declares its own validation-error schema for every route with parameters;
    refvid answers those 422s with :class:`ErrorBody`, so the document says that instead.
    """

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = document.setdefault("components", {}).setdefault("schemas", {})
            default = "#/components/schemas/HTTPValidationError"
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    answer = operation.get("responses", {}).get("422", {})
                    content = answer.get("content", {}).get("application/json", {})
                    if content.get("schema", {}).get("$ref") == default:
                        content["schema"] = {"$ref": "#/components/schemas/ErrorBody"}
                        answer["description"] = ERROR_DESCRIPTIONS[422]
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
