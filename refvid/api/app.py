"""The FastAPI app factory: routes, error handlers, middleware and the background machinery."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from refvid.api import errors, openapi, plan, playground, system, v1, v2
from refvid.api.bodies import BodyBudget
from refvid.api.deps import AppState
from refvid.api.metrics import Metrics
from refvid.api.middleware import RequestIdMiddleware
from refvid.api.ratelimit import RateLimiter
from refvid.api.streams import StreamHub
from refvid.config import Settings, get_settings
from refvid.db import open_db
from refvid.jobs.dispatch import LocalDispatcher
from refvid.jobs.notify import JobEvents
from refvid.jobs.supervisor import Supervisor
from refvid.jobs.webhooks import WebhookSender
from refvid.private import private_dir
from refvid.storage import open_storage

log = logging.getLogger(__name__)

DESCRIPTION = """Reference images + a prompt → a multi-shot H.264 MP4.

`v1` is the synchronous, hosted-compatible endpoint; `v2` queues the request and lets you
poll, stream, download, cancel and list. Authenticate with the `x-api-key` header."""


def _swagger_dir() -> str:
    import swagger_ui_bundle

    return str(swagger_ui_bundle.swagger_ui_path)


def create_app(settings: Settings | None = None, *, start_workers: bool = True) -> FastAPI:
    """Build the app; workers, the supervisor and the webhook sender start with it."""
    settings = settings or get_settings()
    db = open_db(settings)
    dispatcher = LocalDispatcher(settings, db) if start_workers else None
    metrics = Metrics(
        db, lambda: dispatcher.alive if dispatcher is not None else 0, settings.worker_stale_seconds
    )
    job_events = JobEvents(db.engine)
    state = AppState(
        settings=settings, db=db, limiter=RateLimiter(settings.rate_limit), metrics=metrics,
        dispatcher=dispatcher, bodies=BodyBudget(settings.body_buffer_bytes),
        streams=StreamHub(
            per_key=settings.sse_per_key, total=settings.sse_total, poll=max(0.1, settings.poll_interval),
            wait=job_events.wait,
        ),
        storage=open_storage(settings),
        job_events=job_events,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        private_dir(settings.results_dir)
        job_events.start()
        metrics_server = metrics.serve(settings.metrics_listen) if settings.metrics_listen else None
        if dispatcher is not None:
            dispatcher.start()
        supervisor = Supervisor(db, settings, dispatcher)
        sender = WebhookSender(db, settings)
        supervisor.start()
        sender.start()
        try:
            yield
        finally:
            supervisor.stopping.set()
            sender.stopping.set()
            supervisor.join(timeout=5)
            sender.join(timeout=5)
            job_events.stop()
            if dispatcher is not None:
                dispatcher.stop()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
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
    app.add_middleware(RequestIdMiddleware, metrics=metrics)
    return app
