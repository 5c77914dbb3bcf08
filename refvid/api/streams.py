"""Server-sent status streams: a bounded number open, and one source of updates per request.

Each open stream used to poll the database on its own, ten times a second: 300 streams
on one request took ``GET status`` from 5 ms to 1.5 s. Now every stream of a request
reads one :class:`_Feed`, whose single task polls the store and wakes its readers when
the document changes. Streams are capped per key (``REFVID_SSE_PER_KEY``) and in total
(``REFVID_SSE_TOTAL``); one more is answered 429 with ``Retry-After``. The feed also
re-checks the key on every poll: a key revoked meanwhile ends its streams with an
``error`` event.

All of it runs on the event loop; the counters need no lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from refvid.documents import StatusDocument
from refvid.jobs.states import FINAL

STREAM_RETRY_SECONDS: Final = 10.0

Load = Callable[[], Awaitable[tuple[StatusDocument | None, bool]]]
"""Reads (the request's status document, whether its key is revoked) from the store."""

Wait = Callable[[str, float], Awaitable[object]]
"""Waits before the next read of one request: (job id, poll interval)."""


@dataclass
class Update:
    """What a stream sends next: a changed document, a revoked key, or nothing new (keep-alive)."""

    document: StatusDocument | None = None
    revoked: bool = False

    @property
    def last(self) -> bool:
        """Nothing follows this update."""
        return self.revoked or (self.document is not None and self.document.status in FINAL)


@dataclass
class _Feed:
    """The latest status of one request, polled once for all of its streams."""

    document: StatusDocument | None = None
    text: str = ""
    revoked: bool = False
    version: int = 0
    readers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def publish(self, document: StatusDocument | None, text: str, revoked: bool) -> None:
        self.document, self.text, self.revoked = document, text, revoked
        self.version += 1
        self.changed.set()
        self.changed = asyncio.Event()

    @property
    def ended(self) -> bool:
        return self.revoked or self.document is None or self.document.status in FINAL


class StreamsFull(Exception):
    """No stream may be opened now; the message says why (answered 429)."""


class StreamHub:
    """Open status streams: their number, and the shared feeds they read."""

    def __init__(
        self, *, per_key: int, total: int, poll: float, wait: Wait | None = None
    ) -> None:
        self.per_key, self.total, self.poll = per_key, total, poll
        # Between two reads of a request: a plain sleep, or (PostgreSQL) until it changes.
        self.wait: Wait = wait or (lambda _job_id, seconds: asyncio.sleep(seconds))
        self.open_by_key: Counter[int] = Counter()
        self.feeds: dict[str, _Feed] = {}

    @property
    def open(self) -> int:
        """Streams open now."""
        return sum(self.open_by_key.values())

    def admit(self, key_id: int) -> None:
        """Count one more open stream for ``key_id``; :class:`StreamsFull` when none may open."""
        if self.open_by_key[key_id] >= self.per_key:
            why = f"this key already has {self.per_key} status streams open (the most one key may)"
        elif self.open >= self.total:
            why = f"the server already has {self.total} status streams open"
        else:
            self.open_by_key[key_id] += 1
            return
        raise StreamsFull(f"{why}; close one, or poll GET .../status instead")

    def release(self, key_id: int) -> None:
        """A stream of ``key_id`` has ended."""
        self.open_by_key[key_id] -= 1
        if self.open_by_key[key_id] <= 0:
            del self.open_by_key[key_id]

    async def updates(
        self, job_id: str, first: StatusDocument, load: Load, keepalive: float
    ) -> AsyncIterator[Update]:
        """``first``, then every change of the request's status, until a final one.

        Yields an empty :class:`Update` after ``keepalive`` seconds without a change.
        """
        yield Update(first)
        if first.status in FINAL:
            return
        feed = self._feed(job_id, first, load)
        feed.readers += 1
        try:
            seen_text = first.model_dump_json()
            seen = -1  # a feed already running may be ahead of ``first``
            while True:
                if feed.version != seen:
                    seen = feed.version
                    if feed.revoked:
                        yield Update(revoked=True)
                        return
                    if feed.document is None:  # the request is gone (purged): nothing to say
                        return
                    if feed.text != seen_text:
                        seen_text = feed.text
                        update = Update(feed.document)
                        yield update
                        if update.last:
                            return
                    elif feed.ended:
                        return
                waiting = feed.changed
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(keepalive):
                        await waiting.wait()
                        continue
                yield Update()
        finally:
            feed.readers -= 1
            if feed.readers == 0 and self.feeds.get(job_id) is feed:
                del self.feeds[job_id]
                if feed.task is not None:
                    feed.task.cancel()

    def _feed(self, job_id: str, first: StatusDocument, load: Load) -> _Feed:
        feed = self.feeds.get(job_id)
        if feed is None or feed.ended:
            feed = _Feed(document=first, text=first.model_dump_json())
            feed.task = asyncio.create_task(self._poll(job_id, feed, load), name=f"status feed {job_id}")
            self.feeds[job_id] = feed
        return feed

    async def _poll(self, job_id: str, feed: _Feed, load: Load) -> None:
        while not feed.ended:
            await self.wait(job_id, self.poll)
            try:
                document, revoked = await load()
            except Exception:  # a database hiccup: try again on the next round
                continue
            text = "" if document is None else document.model_dump_json()
            if revoked or document is None or text != feed.text:
                feed.publish(document, text, revoked)
