"""What runs once per server beside the API: render workers, housekeeping, webhooks, the metrics port.

With one API process it runs inside that process (the app's lifespan). With several, it
runs in the parent process that :mod:`refvid.api.serving` keeps them under, so workers,
the supervisor and the webhook sender exist once whatever the number of API processes.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from refvid.api.metrics import Metrics
from refvid.config import Settings
from refvid.db import Database
from refvid.jobs.dispatch import LocalDispatcher
from refvid.jobs.supervisor import Supervisor
from refvid.jobs.webhooks import WebhookSender
from refvid.private import private_dir


class Background:
    """Render workers (when ``start_workers``), the supervisor and the webhook sender."""

    def __init__(self, settings: Settings, db: Database, *, start_workers: bool = True) -> None:
        self.settings, self.db = settings, db
        self.dispatcher = LocalDispatcher(settings, db) if start_workers else None
        self._supervisor: Supervisor | None = None
        self._sender: WebhookSender | None = None
        self._metrics_server: WSGIServer | None = None

    @property
    def workers_alive(self) -> int:
        """Render worker processes running now."""
        return self.dispatcher.alive if self.dispatcher is not None else 0

    def start(self, metrics: Metrics | None = None) -> None:
        """Start everything; ``metrics`` is served on ``REFVID_METRICS_LISTEN`` when that is set."""
        private_dir(self.settings.results_dir)
        if metrics is not None and self.settings.metrics_listen:
            self._metrics_server = metrics.serve(self.settings.metrics_listen)
        if self.dispatcher is not None:
            self.dispatcher.start()
        self._supervisor = Supervisor(self.db, self.settings, self.dispatcher)
        self._sender = WebhookSender(self.db, self.settings)
        self._supervisor.start()
        self._sender.start()

    def stop(self) -> None:
        """Stop the threads, then the workers (their interrupted jobs go back to the queue)."""
        threads = [t for t in (self._supervisor, self._sender) if t is not None]
        for thread in threads:
            thread.stopping.set()
        for thread in threads:
            thread.join(timeout=5)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
