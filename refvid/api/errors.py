"""Error responses: one JSON shape, a message that says what to change, never a stack trace.

The shape is the hosted gateway's, ``{"error": "<what to change>"}``, so a Segmind client
reads ``error`` as the message; refvid's structured details sit beside it:
``{"error": "...", "code": "invalid_field", "request_id": "req_...", "fields": [...]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered as ``{"error": message, "code": code, "request_id": ..., **extra}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        /,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra


def request_id_of(request: Request) -> str:
    """The id the middleware gave this HTTP request (also the job id if one is created)."""
    state = request.scope.get("state", {})
    return str(state.get("job_id") or state.get("request_id", ""))


def error_response(
    request: Request, status: int, code: str, message: str,
    headers: dict[str, str] | None = None, /, **extra: Any,
) -> JSONResponse:
    """Build the JSON error response."""
    request_id = extra.pop("request_id", None) or request_id_of(request)
    body: dict[str, Any] = {"error": message, "code": code, "request_id": request_id, **extra}
    # Set here too: a 500 is answered outside the middleware that adds it to responses.
    headers = {**(headers or {}), "x-request-id": request_id}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def validation_message(exc: ValidationError | RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    """One readable sentence naming each bad field, plus the list for programs."""
    fields = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown field; remove it (check the spelling against the documented fields)"
        fields.append({"field": _field(tuple(err.get("loc", ()))), "message": msg})
    text = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return f"invalid request — {text}", fields


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.code, exc.message, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, fields = validation_message(exc)
        return error_response(request, 422, "invalid_field", message, fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}; see /docs"
        return error_response(request, exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(
            request, 500, "internal_error",
            "internal server error; retry, and report the request id if it persists",
        )
