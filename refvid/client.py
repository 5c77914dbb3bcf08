"""Python client for a refvid server (sync :class:`Client` and async :class:`AsyncClient`).

    from refvid.client import Client, image_file_to_base64
    client = Client("rv_...", base_url="http://127.0.0.1:8000")
    mp4 = client.generate("the man on the bench, then a close-up of the book",
                          [image_file_to_base64("man.jpg"), image_file_to_base64("book.jpg")])

Bodies are validated with the same :class:`~refvid.request.GenerationRequest` the server uses,
so a bad field fails before anything is sent. Answers are the typed documents of
:mod:`refvid.documents`. As in httpx, every call is built once (:class:`_Calls`) and the two
classes only differ in how they send it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from refvid.documents import (
    Cancelled,
    Credits,
    RequestList,
    ResultDocument,
    StatusDocument,
    Submitted,
)
from refvid.jobs.states import FINAL, Status
from refvid.request import GenerationRequest

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
V1_PATH = "/v1/vidu-q1-reference-to-video"
V2_PATH = "/v2/vidu-q1-reference-to-video"
RECONNECT_SECONDS = 1.0

T = TypeVar("T")
D = TypeVar("D", bound=BaseModel)
ProgressCallback = Callable[[StatusDocument], None]


class ApiError(Exception):
    """An error answer from the server: HTTP status, machine code, message, request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None, body: Any) -> None:
        super().__init__(f"HTTP {status} {code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.status, self.code, self.message, self.request_id, self.body = (
            status, code, message, request_id, body,
        )


def image_file_to_base64(path: str | os.PathLike[str]) -> str:
    """A local image file as bare base64 (for ``image_urls``)."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def image_url_to_base64(url: str, timeout: float = 30.0) -> str:
    """Download an image and return it as bare base64."""
    response = httpx.get(url, timeout=timeout, follow_redirects=True)
    response.raise_for_status()
    return base64.b64encode(response.content).decode("ascii")


def image_urls_to_base64(urls: Sequence[str], timeout: float = 30.0) -> list[str]:
    """Several image URLs as bare base64, in order."""
    return [image_url_to_base64(url, timeout) for url in urls]


def build_body(
    prompt: str | None, image_urls: Sequence[str] | None, fields: dict[str, Any]
) -> dict[str, Any]:
    """The JSON body, validated locally (raises pydantic's ValidationError naming the field)."""
    data = dict(fields)
    if prompt is not None:
        data["prompt"] = prompt
    if image_urls is not None:
        data["image_urls"] = list(image_urls)
    extra = {k: data.pop(k) for k in ("webhook_url", "payload") if k in data}
    validated = GenerationRequest.model_validate(data).model_dump(mode="json")
    return {**validated, **{k: v for k, v in extra.items() if v is not None}}


def raise_for(response: httpx.Response) -> None:
    """:class:`ApiError` from an error answer (the message is the body's ``error`` string)."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = response.text
    fields = body if isinstance(body, dict) else {}
    raise ApiError(
        response.status_code,
        str(fields.get("code") or "http_error"),
        str(fields.get("error") or response.text[:200]),
        fields.get("request_id") or response.headers.get("x-request-id"),
        body,
    )


def _content(response: httpx.Response) -> bytes:
    raise_for(response)
    return response.content


def _document(model: type[D]) -> Callable[[httpx.Response], D]:
    def read(response: httpx.Response) -> D:
        raise_for(response)
        return model.model_validate(response.json())

    return read


def _final_document(model: type[D]) -> Callable[[httpx.Response], D]:
    """Status and result answer 422 (FAILED) or 409 (CANCELLED) with the document itself."""

    def read(response: httpx.Response) -> D:
        if response.status_code in (409, 422):
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("status") in FINAL:
                return model.model_validate(body)
        raise_for(response)
        return model.model_validate(response.json())

    return read


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: the request to send and how to read its answer."""

    method: str
    url: str
    read: Callable[[httpx.Response], T]
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Calls:
    """Every call of the API, built the same way for the sync and the async client."""

    def generate(self, prompt: str | None, image_urls: Sequence[str] | None, fields: dict[str, Any]) -> Call[bytes]:
        return Call("POST", V1_PATH, _content, json=build_body(prompt, image_urls, fields))

    def submit(
        self, prompt: str | None, image_urls: Sequence[str] | None, fields: dict[str, Any],
        idempotency_key: str | None,
    ) -> Call[Submitted]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = build_body(prompt, image_urls, fields)
        return Call("POST", V2_PATH, _document(Submitted), json=body, headers=headers)

    def status(self, request_id: str) -> Call[StatusDocument]:
        return Call("GET", f"/v2/requests/{request_id}/status", _final_document(StatusDocument))

    def result(self, request_id: str) -> Call[ResultDocument]:
        return Call("GET", f"/v2/requests/{request_id}", _final_document(ResultDocument))

    def download(self, request_id: str, what: str) -> Call[bytes]:
        if what not in ("video", "cover"):
            raise ValueError(f"what must be 'video' or 'cover', not {what!r}")
        return Call("GET", f"/v2/requests/{request_id}/{what}", _content)

    def cancel(self, request_id: str) -> Call[Cancelled]:
        return Call("POST", f"/v2/requests/{request_id}/cancel", _document(Cancelled))

    def list(self, limit: int, before: str | None) -> Call[RequestList]:
        params: dict[str, Any] = {"limit": limit, **({"before": before} if before else {})}
        return Call("GET", "/v2/requests", _document(RequestList), params=params)

    def credits(self) -> Call[Credits]:
        return Call("GET", "/v1/get-user-credits", _document(Credits))

    def stream_url(self, request_id: str) -> str:
        return f"/v2/requests/{request_id}/status/stream"


_CALLS = _Calls()


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.05, deadline - time.monotonic())


def _stream_timeout(http: httpx.Client | httpx.AsyncClient, read: float | None) -> httpx.Timeout:
    # The stream is silent while nothing changes: the read timeout is what bounds a wait.
    return http.timeout if read is None else httpx.Timeout(http.timeout.connect, read=read)


def _check_deadline(
    deadline: float | None, request_id: str, doc: StatusDocument | None, timeout: float | None
) -> None:
    if deadline is not None and time.monotonic() > deadline:
        state = doc.status if doc is not None else "unfinished"
        raise TimeoutError(f"request {request_id} still {state} after {timeout} s")


class _SseParser:
    """Feeds server-sent-event lines; returns each complete ``data`` document."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> StatusDocument | None:
        if line.startswith("data:"):
            self._data.append(line[5:].strip())
        elif not line and self._data:
            doc = StatusDocument.model_validate(json.loads("\n".join(self._data)))
            self._data = []
            return doc
        return None


def _http_options(api_key: str | None, base_url: str, timeout: float) -> dict[str, Any]:
    key = api_key or os.environ.get("REFVID_API_KEY", "")
    return {"base_url": base_url.rstrip("/"), "headers": {"x-api-key": key}, "timeout": timeout}


class Client:
    """Blocking client. ``api_key`` defaults to ``$REFVID_API_KEY``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 900.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(**_http_options(api_key, base_url, timeout), transport=transport)
        self.last_headers: dict[str, str] = {}

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(self, call: Call[T]) -> T:
        response = self._http.request(
            call.method, call.url, json=call.json, params=call.params, headers=call.headers
        )
        self.last_headers = dict(response.headers)
        return call.read(response)

    def generate(
        self, prompt: str | None = None, image_urls: Sequence[str] | None = None, **fields: Any
    ) -> bytes:
        """v1: render and return the MP4 bytes; ``last_headers`` then holds seed, cost, credits."""
        return self._send(_CALLS.generate(prompt, image_urls, fields))

    def submit(
        self,
        prompt: str | None = None,
        image_urls: Sequence[str] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Submitted:
        """v2: queue a request (``webhook_url``/``payload`` allowed); returns id and URLs."""
        return self._send(_CALLS.submit(prompt, image_urls, fields, idempotency_key))

    def status(self, request_id: str) -> StatusDocument:
        """Status, progress, queue position and metrics (also for a FAILED or CANCELLED one)."""
        return self._send(_CALLS.status(request_id))

    def stream(self, request_id: str, read_timeout: float | None = None) -> Iterator[StatusDocument]:
        """Status documents as the server pushes them, until a final state."""
        timeout = _stream_timeout(self._http, read_timeout)
        with self._http.stream("GET", _CALLS.stream_url(request_id), timeout=timeout) as response:
            if not response.is_success:
                response.read()
                raise_for(response)
            parser = _SseParser()
            for line in response.iter_lines():
                if (doc := parser.feed(line)) is not None:
                    yield doc

    def wait(
        self, request_id: str, progress: ProgressCallback | None = None, timeout: float | None = None
    ) -> StatusDocument:
        """Follow the request until a final state, calling ``progress`` with each status.

        The event stream is reopened if it drops before a final state (a proxy timeout, say).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last: StatusDocument | None = None
        while True:
            try:
                for last in self.stream(request_id, _remaining(deadline)):
                    if progress is not None:
                        progress(last)
                    if last.status in FINAL:
                        return last
                    _check_deadline(deadline, request_id, last, timeout)
            except httpx.ReadTimeout:
                pass
            _check_deadline(deadline, request_id, last, timeout)
            time.sleep(RECONNECT_SECONDS)

    def result(self, request_id: str) -> ResultDocument:
        """The result: output URL, seed, size, cost, metrics, timings (or why it failed)."""
        return self._send(_CALLS.result(request_id))

    def download(
        self, request_id: str, path: str | os.PathLike[str] | None = None, *, what: str = "video"
    ) -> bytes:
        """The finished ``video`` (MP4) or ``cover`` (JPEG); also written to ``path`` if given."""
        data = self._send(_CALLS.download(request_id, what))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def cancel(self, request_id: str) -> Cancelled:
        """Cancel an unfinished request (its cost is refunded)."""
        return self._send(_CALLS.cancel(request_id))

    def list(self, limit: int = 20, before: str | None = None) -> RequestList:
        """One page of your requests, newest first (``next_before`` for the next page)."""
        return self._send(_CALLS.list(limit, before))

    def credits(self) -> Credits:
        """The key's remaining credits."""
        return self._send(_CALLS.credits())


class AsyncClient:
    """The same API for asyncio code."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 900.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(**_http_options(api_key, base_url, timeout), transport=transport)
        self.last_headers: dict[str, str] = {}

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _send(self, call: Call[T]) -> T:
        response = await self._http.request(
            call.method, call.url, json=call.json, params=call.params, headers=call.headers
        )
        self.last_headers = dict(response.headers)
        return call.read(response)

    async def generate(
        self, prompt: str | None = None, image_urls: Sequence[str] | None = None, **fields: Any
    ) -> bytes:
        """v1: render and return the MP4 bytes."""
        return await self._send(_CALLS.generate(prompt, image_urls, fields))

    async def submit(
        self,
        prompt: str | None = None,
        image_urls: Sequence[str] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Submitted:
        """v2: queue a request; returns id and URLs."""
        return await self._send(_CALLS.submit(prompt, image_urls, fields, idempotency_key))

    async def status(self, request_id: str) -> StatusDocument:
        """Status, progress, queue position and metrics."""
        return await self._send(_CALLS.status(request_id))

    async def stream(
        self, request_id: str, read_timeout: float | None = None
    ) -> AsyncIterator[StatusDocument]:
        """Status documents as the server pushes them, until a final state."""
        timeout = _stream_timeout(self._http, read_timeout)
        async with self._http.stream("GET", _CALLS.stream_url(request_id), timeout=timeout) as response:
            if not response.is_success:
                await response.aread()
                raise_for(response)
            parser = _SseParser()
            async for line in response.aiter_lines():
                if (doc := parser.feed(line)) is not None:
                    yield doc

    async def wait(
        self,
        request_id: str,
        progress: Callable[[StatusDocument], Awaitable[None] | None] | None = None,
        timeout: float | None = None,
    ) -> StatusDocument:
        """Follow the request until a final state, calling ``progress`` with each status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: StatusDocument | None = None
        while True:
            try:
                async for last in self.stream(request_id, _remaining(deadline)):
                    if progress is not None:
                        outcome = progress(last)
                        if outcome is not None:
                            await outcome
                    if last.status in FINAL:
                        return last
                    _check_deadline(deadline, request_id, last, timeout)
            except httpx.ReadTimeout:
                pass
            _check_deadline(deadline, request_id, last, timeout)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def result(self, request_id: str) -> ResultDocument:
        """The result document."""
        return await self._send(_CALLS.result(request_id))

    async def download(
        self, request_id: str, path: str | os.PathLike[str] | None = None, *, what: str = "video"
    ) -> bytes:
        """The finished ``video`` or ``cover``; also written to ``path`` if given."""
        data = await self._send(_CALLS.download(request_id, what))
        if path is not None:
            Path(path).write_bytes(data)
        return data

    async def cancel(self, request_id: str) -> Cancelled:
        """Cancel an unfinished request (refunded)."""
        return await self._send(_CALLS.cancel(request_id))

    async def list(self, limit: int = 20, before: str | None = None) -> RequestList:
        """One page of your requests, newest first."""
        return await self._send(_CALLS.list(limit, before))

    async def credits(self) -> Credits:
        """The key's remaining credits."""
        return await self._send(_CALLS.credits())


__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "Status",
    "image_file_to_base64",
    "image_url_to_base64",
    "image_urls_to_base64",
]
