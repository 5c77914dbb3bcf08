"""The status poll's fast lane: ``GET /v2/requests/{id}/status`` answered before FastAPI routes it.

Most of the traffic is SDKs polling the status once a second. For a request that small,
FastAPI's own machinery (matching the path against every route, resolving the route's
dependencies) cost more CPU than the read and the document together. This ASGI
middleware recognises that one path and answers it with the very functions the FastAPI
route uses (the same key check, read and document, the same error bodies); everything
else goes on to the app. The route stays declared in FastAPI, so the OpenAPI document and
``/docs`` are unchanged, and the metrics label it with the route's template as before.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from refvid.api import v2
from refvid.api.deps import require_key
from refvid.api.errors import ApiError, error_response

STATUS_PATH = re.compile(r"/v2/requests/([^/]+)/status")


class StatusFastLane:
    """Answers ``GET /v2/requests/{id}/status`` itself; passes every other request on."""

    def __init__(self, app: ASGIApp, route: BaseRoute) -> None:
        self.app, self.route = app, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "GET":
            match = STATUS_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # what the metrics label the request with
        request = Request(scope, receive)
        try:
            key = await require_key(request)
            response = await v2.status_answer(request, key, match.group(1))
        except ApiError as exc:
            response = error_response(request, exc.status, exc.code, exc.message, exc.headers, **exc.extra)
        await response(scope, receive, send)
