"""Outgoing HTTP under one wall-clock deadline that the caller enforces, not the server.

httpx timeouts are per operation: a server that sends one header byte every 29 s never
trips a 30 s read timeout and can hold a connection for as long as it likes. So every
outgoing exchange (a reference download, a webhook attempt) runs as a coroutine in its own
event loop, inside ``asyncio.timeout``: at the deadline the coroutine is cancelled wherever
it is (resolving, connecting, sending, waiting for the status line, reading headers or
body) and the socket is closed. A ``cancelled`` callback, polled while it runs, ends it the
same way, so a job cancelled by its owner drops its downloads at once.

Blocking work inside the exchange (DNS resolution in :func:`refvid.net.policy.check_url`,
a database poll in ``cancelled``) runs on a shared thread pool rather than the event loop's
default executor: ``asyncio.run`` waits for its default executor on the way out, which
would let a hanging resolver outlive the deadline.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar

from refvid.errors import Cancelled

if TYPE_CHECKING:
    import httpx

# asyncio and httpx (70 ms together) are imported when a download first runs: a render from
# local files never downloads.

T = TypeVar("T")
P = ParamSpec("P")

CancelledFn = Callable[[], bool]
CANCEL_POLL_SECONDS: Final = 0.25
_BLOCKING: Final = ThreadPoolExecutor(max_workers=16, thread_name_prefix="refvid-net")


def run_with_deadline(
    operation: Callable[[], Awaitable[T]],
    seconds: float,
    *,
    cancelled: CancelledFn | None = None,
    poll: float = CANCEL_POLL_SECONDS,
) -> T:
    """Run ``operation()`` to completion in a fresh event loop, or stop it.

    Raises ``TimeoutError`` once ``seconds`` of wall-clock time have passed, and
    :class:`refvid.errors.Cancelled` within about ``poll`` seconds of ``cancelled()``
    turning true. Either way the operation is cancelled and its connections closed.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a plain thread, no loop of its own
        return _run(operation, seconds, cancelled, poll)
    # Called from a thread that runs an event loop (async code calling a blocking API, or a
    # library keeping a loop open): asyncio.run would refuse, so use a thread of our own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="refvid-deadline") as own:
        return own.submit(_run, operation, seconds, cancelled, poll).result()


def _run(
    operation: Callable[[], Awaitable[T]], seconds: float, cancelled: CancelledFn | None, poll: float
) -> T:
    import asyncio

    try:
        return asyncio.run(_guarded(operation, seconds, cancelled, poll))
    except asyncio.CancelledError:  # the owner cancelled just as the operation finished
        raise Cancelled("cancelled while a download was in progress") from None


async def _guarded(
    operation: Callable[[], Awaitable[T]], seconds: float, cancelled: CancelledFn | None, poll: float
) -> T:
    import asyncio

    main = asyncio.current_task()
    assert main is not None
    stopped_by_owner = False

    async def watch(check: CancelledFn) -> None:
        nonlocal stopped_by_owner
        while True:
            await asyncio.sleep(poll)
            if await blocking(check):
                stopped_by_owner = True
                main.cancel()
                return

    watcher = asyncio.create_task(watch(cancelled)) if cancelled is not None else None
    try:
        async with asyncio.timeout(seconds):
            return await operation()
    except asyncio.CancelledError:
        if stopped_by_owner:
            raise Cancelled("cancelled while a download was in progress") from None
        raise
    finally:
        if watcher is not None:
            watcher.cancel()


async def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call on the shared pool (never the loop's default executor)."""
    import asyncio

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_BLOCKING, lambda: function(*args, **kwargs))


@cache
def default_ssl_context() -> ssl.SSLContext:
    """The system trust store, loaded once per process."""
    return ssl.create_default_context()


def pinned_client(timeout: float, verify: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """A client for :class:`refvid.net.policy.ResolvedTarget` s: no proxies, no redirects.

    ``trust_env=False``: a proxy from the environment would resolve the host name itself
    and undo the address the policy pinned. ``timeout`` applies to each connect, read and
    write; the overall deadline is :func:`run_with_deadline`'s.
    """
    import httpx

    return httpx.AsyncClient(
        verify=verify or default_ssl_context(),
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        follow_redirects=False,
    )
