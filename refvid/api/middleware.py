"""Pure ASGI middleware: a request id on every request and response, and HTTP metrics."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refvid.api.metrics import Metrics, method_label
from refvid.jobs.store import new_job_id


class RequestIdMiddleware:
    """Gives each request an id (``x-request-id``), the same one a created job takes."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_job_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        counted = False

        def count() -> None:
            # Every label has a bounded set of values: the method is normalised, the route is
            # the matched template (never the raw path), and the status is the app's own.
            nonlocal counted
            counted = True
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_requests.labels(method_label(scope["method"]), name, str(status)).inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers["x-request-id"] = scope["state"].get("job_id", request_id)
                # Counted before the client can see the response, so a scrape it makes next
                # (from any API process) already includes this request.
                count()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not counted:
                count()
            name = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http_seconds.labels(name).observe(time.perf_counter() - started)
