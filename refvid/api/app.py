"""The FastAPI app factory: routes, error handlers, middleware and the background machinery."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from refvid.api import errors, openapi, plan, playground, system, v1, v2
from refvid.api.background import Background
from refvid.api.bodies import BodyBudget
from refvid.api.deps import AppState
from refvid.api.fastlane import StatusFastLane
from refvid.api.metrics import Metrics
from refvid.api.middleware import RequestIdMiddleware
from refvid.api.ratelimit import RateLimiter
from refvid.api.streams import StreamHub
from refvid.config import Settings, get_settings
from refvid.db import open_db
from refvid.jobs.notify import JobEvents
from refvid.storage import open_storage

log = logging.getLogger(__name__)

DESCRIPTION = """Reference images + a prompt → a multi-shot H.264 MP4.

`v1` is the synchronous, hosted-compatible endpoint; `v2` queues the request and lets you
poll, stream, download, cancel and list. Authenticate with the `x-api-key` header."""


def _swagger_dir() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)


def create_app(
    settings: Settings | None = None,
    *,
    start_workers: bool = True,
    workers_alive: Callable[[], int] | None = None,
    api_processes: int = 1,
) -> FastAPI:
    """Build the app; workers, the supervisor and the webhook sender start with it.

    ``workers_alive`` makes this one of ``api_processes`` API processes of one server
    (:mod:`refvid.api.serving`): the background then runs in their parent, which reports
    how many render workers are alive, and the in-memory budgets (request bodies, open
    streams) are shared out between the processes.
    """
    settings = settings or get_settings()
    db = open_db(settings)
    background = None if workers_alive is not None else Background(settings, db, start_workers=start_workers)
    if background is not None:
        workers_alive = lambda: background.workers_alive  # noqa: E731
    assert workers_alive is not None
    share = max(1, api_processes)
    metrics = Metrics(db, workers_alive, settings.worker_stale_seconds)
    job_events = JobEvents(db.engine)
    state = AppState(
        settings=settings, db=db, limiter=RateLimiter(db, "submit", settings.rate_limit), metrics=metrics,
        dispatcher=background.dispatcher if background is not None else None,
        workers_alive=workers_alive,
        bodies=BodyBudget(max(1024 * 1024, settings.body_buffer_bytes // share)),
        streams=StreamHub(
            per_key=settings.sse_per_key, total=max(1, settings.sse_total // share),
            poll=max(0.1, settings.poll_interval),
            wait=job_events.wait,
        ),
        storage=open_storage(settings),
        job_events=job_events,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        job_events.start()
        if background is not None:
            background.start(metrics)
        try:
            yield
        finally:
            if background is not None:
                background.stop()
            job_events.stop()
            state.reads.close()
            db.dispose()

    app = FastAPI(
        title="refvid",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.refvid = state
    errors.install(app)
    openapi.install(app)
    app.include_router(v1.router)
    app.include_router(v2.router)
    app.include_router(plan.router)
    app.include_router(system.router)
    app.mount(system.STATIC, StaticFiles(directory=_swagger_dir()), name="swagger")
    playground.install(app)
    status_route = next(
        route for route in v2.router.routes
        if getattr(route, "path", None) == "/v2/requests/{request_id}/status" and "GET" in getattr(route, "methods", ())
    )
    app.add_middleware(StatusFastLane, route=status_route)  # inside the request id and metrics
    app.add_middleware(RequestIdMiddleware, metrics=metrics)
    return app
