"""http(s) download of reference images: public addresses only, bounded in size and time.

Every hop is checked by the public-address policy (:func:`refvid.net.policy.check_url`,
shared with webhooks) and connected to the one address it pinned; redirects are followed by
hand and re-checked. The whole download — resolving, connecting, headers, body, redirects —
runs under one wall-clock deadline enforced by :func:`refvid.net.deadline.run_with_deadline`,
and stops early when the job it serves is cancelled.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin

from refvid.errors import InvalidReference
from refvid.net.deadline import CancelledFn, blocking, pinned_client, run_with_deadline
from refvid.net.policy import (
    IPNetwork,
    ResolvedTarget,
    UrlRejected,
    check_url,
    parse_networks,
    url_label,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024
DEFAULT_TIMEOUT: Final = 10.0  # seconds, per connect / per read
DEFAULT_DEADLINE: Final = 60.0  # seconds for the whole download, redirects included
MAX_REDIRECTS: Final = 5
USER_AGENT: Final = "refvid (reference image fetch)"
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})

class UrlFetcher:
    """Downloads http(s) URLs safely; call it as ``fetcher(url, index) -> bytes``.

    ``timeout`` bounds each connect and read; ``deadline`` bounds the whole download,
    headers and redirects included. ``cancelled``, when given, is polled during the
    download; when it turns true the download stops with :class:`refvid.errors.Cancelled`.
    """

    def __init__(
        self,
        *,
        allowed_networks: Iterable[str | IPNetwork] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_redirects: int = MAX_REDIRECTS,
        ssl_context: ssl.SSLContext | None = None,
        cancelled: CancelledFn | None = None,
    ) -> None:
        self.allowed_networks = parse_networks(allowed_networks)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadline = deadline
        self.max_redirects = max_redirects
        self.cancelled = cancelled
        self._ssl = ssl_context  # None: the system's trust store

    def __call__(self, url: str, index: int) -> bytes:
        """Download ``url``; any failure is an :class:`InvalidReference` naming ``index``."""
        try:
            return self.fetch(url)
        except UrlRejected as exc:
            raise InvalidReference(index, str(exc)) from exc

    def fetch(self, url: str) -> bytes:
        """Download ``url`` (following up to ``max_redirects`` checked redirects) or raise UrlRejected."""
        hop = _Hop(url)
        try:
            return run_with_deadline(
                lambda: self._fetch(hop), self.deadline, cancelled=self.cancelled
            )
        except TimeoutError:
            raise UrlRejected(
                f"downloading {hop.label} took longer than {self.deadline:g} s; "
                "host the image somewhere faster or send it as base64"
            ) from None

    async def _fetch(self, hop: _Hop) -> bytes:
        async with pinned_client(self.timeout, self._ssl) as client:
            for count in range(self.max_redirects + 1):
                target = await blocking(check_url, hop.url, self.allowed_networks)
                hop.label = target.label
                result = await self._get(client, target)
                if isinstance(result, bytes):
                    return result
                if count == self.max_redirects:
                    break
                hop.url = urljoin(target.url, result)
        raise UrlRejected(
            f"{hop.label} redirects more than {self.max_redirects} times; "
            "send the final URL of the image"
        )

    async def _get(self, client: httpx.AsyncClient, target: ResolvedTarget) -> str | bytes:
        """GET one hop: the redirect location (str) or the body (bytes)."""
        import httpx  # imported when first used: a render from local files never downloads (50 ms)

        request = client.build_request(
            "GET",
            target.pinned_url,
            headers={"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": "image/*"},
            extensions=target.extensions,
        )
        try:
            response = await client.send(request, stream=True)
            try:
                return await self._read(response, target)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
            raise UrlRejected(
                f"timed out after {self.timeout:g} s {phase} {target.label}; "
                "check the URL or host the image somewhere faster"
            ) from exc
        except httpx.HTTPError as exc:
            raise UrlRejected(f"could not download {target.label} ({_reason(exc)}); check the URL") from exc

    async def _read(self, response: httpx.Response, target: ResolvedTarget) -> str | bytes:
        if response.status_code in _REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise UrlRejected(
                    f"{target.label} answered HTTP {response.status_code} without a Location header"
                )
            return location
        if response.status_code != 200:
            raise UrlRejected(
                f"{target.label} answered HTTP {response.status_code} "
                f"{response.reason_phrase}; the URL must return the image itself (HTTP 200)"
            )
        limit_mb = f"{self.max_bytes / 1024 / 1024:g} MB"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise UrlRejected(
                f"{target.label} is {int(declared) / 1024 / 1024:.1f} MB (Content-Length); "
                f"references may be at most {limit_mb} — send a smaller image"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise UrlRejected(
                    f"{target.label} is larger than {limit_mb}; references may be at most "
                    f"{limit_mb} — send a smaller image"
                )
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass
class _Hop:
    """The URL being fetched now, and how to name it in a message."""

    url: str
    label: str = ""

    def __post_init__(self) -> None:
        self.label = url_label(self.url)


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "its TLS certificate could not be verified"
    if "Connection refused" in text or "[Errno 111]" in text or _refused(exc):
        return "connection refused"
    return text[:200]


def _refused(exc: BaseException) -> bool:
    """Whether a connection refusal is anywhere in the chain ("All connection attempts failed")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
