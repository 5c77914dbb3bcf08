"""Python client for a refvid server (sync :class:`Client` and async :class:`AsyncClient`).

    from refvid.client import Client, image_file_to_base64
    client = Client("rv_...", base_url="http://127.0.0.1:8000")
    mp4 = client.generate("the man on the bench, then a close-up of the book",
                          [image_file_to_base64("man.jpg"), image_file_to_base64("book.jpg")])

Bodies are validated with the same :class:`~refvid.request.GenerationRequest` the server uses,
so a bad field fails before anything is sent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from refvid.request import GenerationRequest

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
V1_PATH = "/v1/vidu-q1-reference-to-video"
V2_PATH = "/v2/vidu-q1-reference-to-video"
RECONNECT_SECONDS = 1.0

Status = dict[str, Any]
ProgressCallback = Callable[[Status], None]


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


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = response.text
    fields = body if isinstance(body, dict) else {}
    # The gateway's shape: "error" is the message, refvid's details sit beside it.
    raise ApiError(
        response.status_code,
        str(fields.get("code") or "http_error"),
        str(fields.get("error") or response.text[:200]),
        fields.get("request_id") or response.headers.get("x-request-id"),
        body,
    )


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.05, deadline - time.monotonic())


def _stream_timeout(http: httpx.Client | httpx.AsyncClient, read: float | None) -> httpx.Timeout:
    # The stream is silent while nothing changes: the read timeout is what bounds a wait.
    return http.timeout if read is None else httpx.Timeout(http.timeout.connect, read=read)


def _check_deadline(deadline: float | None, request_id: str, doc: Status, timeout: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError(f"request {request_id} still {doc.get('status', 'unfinished')} after {timeout} s")


def _headers(idempotency_key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": idempotency_key} if idempotency_key else {}


class _SseParser:
    """Feeds server-sent-event lines; returns each complete ``data`` document."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> Status | None:
        if line.startswith("data:"):
            self._data.append(line[5:].strip())
        elif not line and self._data:
            doc: Status = json.loads("\n".join(self._data))
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

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self._http.request(method, url, **kwargs)
        _raise_for(response)
        self.last_headers = dict(response.headers)
        return response.json()

    def generate(
        self, prompt: str | None = None, image_urls: Sequence[str] | None = None, **fields: Any
    ) -> bytes:
        """v1: render and return the MP4 bytes; ``last_headers`` then holds seed, cost, credits."""
        response = self._http.post(V1_PATH, json=build_body(prompt, image_urls, fields))
        _raise_for(response)
        self.last_headers = dict(response.headers)
        return response.content

    def submit(
        self,
        prompt: str | None = None,
        image_urls: Sequence[str] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Status:
        """v2: queue a request (``webhook_url``/``payload`` allowed); returns id and URLs."""
        body = build_body(prompt, image_urls, fields)
        result: Status = self._json("POST", V2_PATH, json=body, headers=_headers(idempotency_key))
        return result

    def status(self, request_id: str) -> Status:
        """Status, progress and queue position."""
        result: Status = self._json("GET", f"/v2/requests/{request_id}/status")
        return result

    def stream(self, request_id: str, read_timeout: float | None = None) -> Iterator[Status]:
        """Status documents as the server pushes them, until a final state."""
        url = f"/v2/requests/{request_id}/status/stream"
        with self._http.stream("GET", url, timeout=_stream_timeout(self._http, read_timeout)) as response:
            if not response.is_success:
                response.read()
                _raise_for(response)
            parser = _SseParser()
            for line in response.iter_lines():
                if (doc := parser.feed(line)) is not None:
                    yield doc

    def wait(
        self, request_id: str, progress: ProgressCallback | None = None, timeout: float | None = None
    ) -> Status:
        """Follow the request until a final state, calling ``progress`` with each status.

        The event stream is reopened if it drops before a final state (a proxy timeout, say).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last: Status = {}
        while True:
            try:
                for last in self.stream(request_id, _remaining(deadline)):
                    if progress is not None:
                        progress(last)
                    if last.get("status") in FINAL_STATES:
                        return last
                    _check_deadline(deadline, request_id, last, timeout)
            except httpx.ReadTimeout:
                pass
            _check_deadline(deadline, request_id, last, timeout)
            time.sleep(RECONNECT_SECONDS)

    def result(self, request_id: str) -> Status:
        """The result: video/cover URLs, seed, size, cost, remaining credits, timings."""
        result: Status = self._json("GET", f"/v2/requests/{request_id}")
        return result

    def download(
        self, request_id: str, path: str | os.PathLike[str] | None = None, *, what: str = "video"
    ) -> bytes:
        """The finished ``video`` (MP4) or ``cover`` (JPEG); also written to ``path`` if given."""
        response = self._http.get(f"/v2/requests/{request_id}/{what}")
        _raise_for(response)
        if path is not None:
            Path(path).write_bytes(response.content)
        return response.content

    def cancel(self, request_id: str) -> Status:
        """Cancel an unfinished request (its cost is refunded)."""
        result: Status = self._json("POST", f"/v2/requests/{request_id}/cancel")
        return result

    def list(self, limit: int = 20, before: str | None = None) -> Status:
        """One page of your requests, newest first (``next_before`` for the next page)."""
        params: dict[str, Any] = {"limit": limit, **({"before": before} if before else {})}
        result: Status = self._json("GET", "/v2/requests", params=params)
        return result


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

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, url, **kwargs)
        _raise_for(response)
        self.last_headers = dict(response.headers)
        return response.json()

    async def generate(
        self, prompt: str | None = None, image_urls: Sequence[str] | None = None, **fields: Any
    ) -> bytes:
        """v1: render and return the MP4 bytes."""
        response = await self._http.post(V1_PATH, json=build_body(prompt, image_urls, fields))
        _raise_for(response)
        self.last_headers = dict(response.headers)
        return response.content

    async def submit(
        self,
        prompt: str | None = None,
        image_urls: Sequence[str] | None = None,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Status:
        """v2: queue a request; returns id and URLs."""
        body = build_body(prompt, image_urls, fields)
        result: Status = await self._json("POST", V2_PATH, json=body, headers=_headers(idempotency_key))
        return result

    async def status(self, request_id: str) -> Status:
        """Status, progress and queue position."""
        result: Status = await self._json("GET", f"/v2/requests/{request_id}/status")
        return result

    async def stream(self, request_id: str, read_timeout: float | None = None) -> AsyncIterator[Status]:
        """Status documents as the server pushes them, until a final state."""
        url = f"/v2/requests/{request_id}/status/stream"
        timeout = _stream_timeout(self._http, read_timeout)
        async with self._http.stream("GET", url, timeout=timeout) as response:
            if not response.is_success:
                await response.aread()
                _raise_for(response)
            parser = _SseParser()
            async for line in response.aiter_lines():
                if (doc := parser.feed(line)) is not None:
                    yield doc

    async def wait(
        self,
        request_id: str,
        progress: Callable[[Status], Awaitable[None] | None] | None = None,
        timeout: float | None = None,
    ) -> Status:
        """Follow the request until a final state, calling ``progress`` with each status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: Status = {}
        while True:
            try:
                async for last in self.stream(request_id, _remaining(deadline)):
                    if progress is not None:
                        outcome = progress(last)
                        if outcome is not None:
                            await outcome
                    if last.get("status") in FINAL_STATES:
                        return last
                    _check_deadline(deadline, request_id, last, timeout)
            except httpx.ReadTimeout:
                pass
            _check_deadline(deadline, request_id, last, timeout)
            await asyncio.sleep(RECONNECT_SECONDS)

    async def result(self, request_id: str) -> Status:
        """The result document."""
        result: Status = await self._json("GET", f"/v2/requests/{request_id}")
        return result

    async def download(
        self, request_id: str, path: str | os.PathLike[str] | None = None, *, what: str = "video"
    ) -> bytes:
        """The finished ``video`` or ``cover``; also written to ``path`` if given."""
        response = await self._http.get(f"/v2/requests/{request_id}/{what}")
        _raise_for(response)
        if path is not None:
            Path(path).write_bytes(response.content)
        return response.content

    async def cancel(self, request_id: str) -> Status:
        """Cancel an unfinished request (refunded)."""
        result: Status = await self._json("POST", f"/v2/requests/{request_id}/cancel")
        return result

    async def list(self, limit: int = 20, before: str | None = None) -> Status:
        """One page of your requests, newest first."""
        params: dict[str, Any] = {"limit": limit, **({"before": before} if before else {})}
        result: Status = await self._json("GET", "/v2/requests", params=params)
        return result


__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "image_file_to_base64",
    "image_url_to_base64",
    "image_urls_to_base64",
]
