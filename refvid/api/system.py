"""Health, readiness, Prometheus metrics and the offline API docs."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from refvid.api.deps import app_state
from refvid.api.errors import ApiError
from refvid.documents import ErrorBody, Health, NotReady, PoolState, Readiness
from refvid.jobs import nodes

router = APIRouter(tags=["system"])

STATIC = "/static/swagger"


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> Health:
    """Always ``ok`` while the server runs."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": NotReady, "description": "Not ready; `problems` says why."}},
    summary="Readiness: database reachable and workers running",
)
async def readyz(request: Request) -> Readiness:
    """200 when requests can be served and rendered, else 503 with the reason."""
    state = app_state(request)

    def ping() -> None:
        with state.db.read() as session:
            session.execute(text("SELECT 1"))

    problems = []
    pools: dict[str, PoolState] = {}
    try:
        await run_in_threadpool(ping)
        totals = await run_in_threadpool(nodes.pools, state.db, state.settings.worker_stale_seconds)
        pools = {name: PoolState(**vars(pool)) for name, pool in totals.items()}
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    alive = state.workers_alive()
    if state.settings.workers and alive == 0:
        problems.append("no render worker is running")
    if problems:
        raise ApiError(
            503, "not_ready", f"not ready: {'; '.join(problems)}",
            status="not ready", workers=alive, problems=problems,
            pools={name: pool.model_dump() for name, pool in pools.items()},
        )
    return Readiness(status="ready", workers=alive, problems=[], pools=pools)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        },
        401: {"model": ErrorBody, "description": "REFVID_METRICS_TOKEN is set: send it as a Bearer token."},
        404: {"model": ErrorBody, "description": "Served on REFVID_METRICS_LISTEN instead."},
    },
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """Text exposition format.

    With ``REFVID_METRICS_TOKEN`` set it needs ``Authorization: Bearer <token>``; with
    ``REFVID_METRICS_LISTEN`` it is served only on that address, and is 404 here.
    """
    state = app_state(request)
    settings = state.settings
    if settings.metrics_listen:
        raise ApiError(
            404, "not_found", f"no such endpoint: {request.method} {request.url.path}; see /docs"
        )
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        if not hmac.compare_digest(given.encode("latin-1", "replace"), expected.encode()):
            raise ApiError(
                401, "invalid_metrics_token",
                "/metrics needs the operator's token: send Authorization: Bearer <REFVID_METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
    data = await run_in_threadpool(generate_latest, state.metrics.exposed)
    return Response(data, media_type=CONTENT_TYPE_LATEST)


DOCS_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>refvid API</title>
<link rel="stylesheet" href="{STATIC}/swagger-ui.css">
<link rel="icon" href="{STATIC}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{STATIC}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

# validatorUrl: null, or Swagger UI sends the document to validator.swagger.io for a badge.
DOCS_SCRIPT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  validatorUrl: null, tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"
});
"""

# Only this server: the browser itself refuses anything the page would fetch from elsewhere.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI 5 (OpenAPI 3.1) from the swagger-ui-bundle-v2 package's files: works offline."""
    return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})


@router.get("/docs/init.js", include_in_schema=False)
def docs_script() -> Response:
    """The page's start-up script (a file, so the policy needs no inline scripts)."""
    return Response(DOCS_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
