"""Request bodies in memory: one budget shared by every submit, and a deadline to arrive.

A submit holds its body while it is parsed, validated and stored — about twice its size
at the peak. Without a bound, a few concurrent 100 MB bodies took the API process to
gigabytes. So the bytes of the bodies being handled at once are counted against
``REFVID_BODY_BUFFER_BYTES``: a body that would take more than is left is refused with
503 and ``Retry-After``, before it is buffered (from its ``Content-Length``, or as it
streams). One key may hold at most half the budget, so one tenant cannot fill it alone.
A body must also arrive within ``REFVID_BODY_TIMEOUT`` seconds (408 otherwise), so a
slow upload cannot hold its share for ever.

Everything here runs on the event loop, so the counters need no lock.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final

import anyio
from starlette.requests import ClientDisconnect, Request

from refvid.api.errors import ApiError

BUSY_RETRY_SECONDS: Final = 5


@dataclass
class BodyBudget:
    """Bytes of request bodies held at once, in total and per key."""

    capacity: int
    held: int = 0
    by_key: Counter[int] = field(default_factory=Counter)

    @property
    def per_key(self) -> int:
        """The most one key may hold: half the budget (one whole body at the least)."""
        return max(1, math.ceil(self.capacity / 2))

    def take(self, key_id: int, size: int) -> bool:
        """Reserve ``size`` more bytes for ``key_id``; False (nothing reserved) when full."""
        if self.held + size > self.capacity or self.by_key[key_id] + size > self.per_key:
            return False
        self.held += size
        self.by_key[key_id] += size
        return True

    def give(self, key_id: int, size: int) -> None:
        """Return ``size`` bytes that ``key_id`` reserved."""
        self.held -= size
        self.by_key[key_id] -= size
        if self.by_key[key_id] <= 0:
            del self.by_key[key_id]


    @asynccontextmanager
    async def hold(self, key_id: int) -> AsyncIterator[Reservation]:
        """A reservation for one request; all it took is given back when the block ends."""
        reservation = Reservation(self, key_id)
        try:
            yield reservation
        finally:
            self.give(key_id, reservation.size)


@dataclass
class Reservation:
    """What one request has taken from the budget so far."""

    budget: BodyBudget
    key_id: int
    size: int = 0

    def grow_to(self, size: int) -> None:
        """Hold ``size`` bytes in all; 503 ``server_busy`` when the budget cannot take them."""
        if size <= self.size:
            return
        if not self.budget.take(self.key_id, size - self.size):
            mine = self.budget.by_key[self.key_id] > 0
            why = (
                "this key's other requests are still being received"
                if mine else "the server is receiving too many large requests at once"
            )
            raise ApiError(
                503, "server_busy",
                f"{why}; retry after {BUSY_RETRY_SECONDS} s (or send URLs instead of base64)",
                headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
            )
        self.size = size


async def read_body(request: Request, reservation: Reservation, *, limit: int, timeout: float) -> bytes:
    """The whole body, counted against ``reservation`` before it is buffered.

    413 past ``limit``; 503 when the budget cannot take it (from ``Content-Length`` before
    any byte is read, or as a body without one streams in); 408 when it takes longer than
    ``timeout`` seconds to arrive.
    """
    too_large = ApiError(
        413, "body_too_large",
        f"the request body is larger than {limit} bytes: send fewer or smaller images "
        "(or URLs instead of base64)",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        if int(declared) > limit:
            raise too_large
        reservation.grow_to(int(declared))
    chunks: list[bytes] = []
    total = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    raise too_large
                reservation.grow_to(total)  # no Content-Length (chunked): count as it comes
                chunks.append(chunk)
    except ClientDisconnect:
        # Nobody will read the answer; ending here gives the reservation back at once.
        raise ApiError(400, "client_disconnected", "the client closed the connection mid-body") from None
    except TimeoutError:
        raise ApiError(
            408, "body_timeout",
            f"the request body did not arrive within {timeout:g} s; send it faster, or send "
            "URLs instead of base64",
        ) from None
    return b"".join(chunks)


async def discard_body(request: Request, *, limit: int, timeout: float) -> None:
    """Read and drop what is left of the body, without keeping it, before an early answer.

    A client that sends its whole body before reading the answer (most do, unless they
    ask ``Expect: 100-continue``) would otherwise see the connection reset instead of
    the answer. Memory stays flat: each chunk is dropped as it arrives.
    """
    if request.headers.get("expect", "").lower() == "100-continue":
        return  # the client waits for our go-ahead: it never sends the body
    total = 0
    try:
        with anyio.move_on_after(timeout):
            async for chunk in request.stream():
                total += len(chunk)
                if total > limit:
                    return
    except ClientDisconnect:
        return
