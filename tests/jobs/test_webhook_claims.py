"""Webhook deliveries are claimed: senders on several nodes send each attempt exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select

from refvid.billing import create_key
from refvid.config import Settings
from refvid.db import Database, open_db
from refvid.jobs import lifecycle, store, webhooks
from refvid.jobs.models import WebhookAttempt, WebhookState
from refvid.request import GenerationRequest

from ..api.live import image_b64
from ..pg import empty_pg_url as empty_pg_url
from ..pg import pg_url as pg_url


class _Receiver(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hits.append(self.headers["X-Refvid-Attempt"])
        time.sleep(0.3)  # slow enough that every sender is racing while it answers
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    handler = type("Receiver", (_Receiver,), {"hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler.hits
    finally:
        server.shutdown()


def _due_webhook(db: Database, url: str) -> str:
    key = create_key(db, "k", 10_000)
    request = GenerationRequest(prompt="x", image_urls=[image_b64()], aspect_ratio="1:1", seed=3)
    job = store.submit(
        db, key_id=key.id, request=request, body_hash="h", cost=1000, max_queue=10, webhook_url=url
    ).job
    assert lifecycle.claim(db, "w1") is not None
    assert lifecycle.fail(db, job.id, http_status=500, code="x", message="x", ttl=60)
    return job.id


def _race(nodes: list[Database], settings: Settings, job_id: str) -> list[bool]:
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda db=db: results.append(webhooks.deliver(db, settings, job_id)))
        for db in nodes for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _check_once(db: Database, job_id: str, hits: list[str], results: list[bool]) -> None:
    assert hits == ["1"] and results.count(True) == 1
    with db.read() as session:
        attempts = session.scalars(select(WebhookAttempt).where(WebhookAttempt.job_id == job_id)).all()
    assert [(a.attempt, a.ok) for a in attempts] == [(1, True)]
    job = store.get_job(db, job_id)
    assert job is not None and job.webhook_state == WebhookState.DELIVERED


def test_racing_senders_on_sqlite_send_once(tmp_path: Path, receiver: tuple[str, list[str]]) -> None:
    url, hits = receiver
    settings = Settings(home=tmp_path, allow_private_networks=["127.0.0.0/8"])
    nodes = [open_db(settings), open_db(settings)]  # two processes' worth of connections
    job_id = _due_webhook(nodes[0], url)
    _check_once(nodes[0], job_id, hits, _race(nodes, settings, job_id))


def test_racing_senders_on_postgres_send_once(
    pg_url: str, tmp_path: Path, receiver: tuple[str, list[str]]
) -> None:
    url, hits = receiver
    settings = Settings(home=tmp_path, database_url=pg_url, allow_private_networks=["127.0.0.0/8"])
    nodes = [open_db(settings), open_db(settings)]
    job_id = _due_webhook(nodes[0], url)
    _check_once(nodes[0], job_id, hits, _race(nodes, settings, job_id))
    assert webhooks.due(nodes[1]) == []
    for db in nodes:
        db.dispose()
