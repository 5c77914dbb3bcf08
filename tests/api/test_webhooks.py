"""Webhooks on the wire: signed, verified by a receiver, retried after a failure, visible in status."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from refvid.jobs.webhooks import SIGNATURE_HEADER, verify_signature

from .live import LiveServer, body

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")


class Receiver(ThreadingHTTPServer):
    """Answers 500 to the first ``fail_first`` deliveries, then 200; keeps every delivery."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, raw))
        failing = len(self.server.deliveries) <= self.server.fail_first
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _webhook_when(status_url: str, key: str, state: str) -> dict[str, Any]:
    """Poll the status until its webhook reaches ``state`` (attempts are recorded after the POST)."""
    deadline = time.monotonic() + 20
    webhook: dict[str, Any] = {}
    while time.monotonic() < deadline:
        webhook = requests.get(status_url, headers={"x-api-key": key}).json()["webhook"]
        if webhook["state"] == state:
            return webhook
        time.sleep(0.05)
    raise AssertionError(f"webhook stayed {webhook.get('state')}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(fail_first=1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_webhook_is_signed_retried_and_recorded(serve: Callable[..., LiveServer], receiver: Receiver) -> None:
    server = serve(workers=0, webhook_backoff=[0.2, 0.2])
    key, secret, _ = server.key("5")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    sub = requests.post(
        server.url + "/v2/vidu-q1-reference-to-video",
        json=body(webhook_url=hook, payload={"user": "u1"}), headers={"x-api-key": key},
    ).json()
    requests.post(sub["cancel_url"], headers={"x-api-key": key})  # reaches a final state at once

    deadline = time.monotonic() + 20
    while len(receiver.deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.deliveries) == 2
    for headers, raw in receiver.deliveries:
        assert verify_signature(secret, raw, headers[SIGNATURE_HEADER.lower()])
        assert not verify_signature(secret, raw + b" ", headers[SIGNATURE_HEADER.lower()])
        assert not verify_signature("whsec_wrong", raw, headers[SIGNATURE_HEADER.lower()])
        doc = json.loads(raw)
        assert doc["request_id"] == sub["request_id"] and doc["status"] == "CANCELLED"
        assert doc["payload"] == {"user": "u1"}
    assert [h["x-refvid-attempt"] for h, _ in receiver.deliveries] == ["1", "2"]

    webhook = _webhook_when(sub["status_url"], key, "delivered")
    assert [(a["attempt"], a["status_code"], a["ok"]) for a in webhook["attempts"]] == [
        (1, 500, False), (2, 200, True),
    ]
    assert "500" in webhook["attempts"][0]["error"]


def test_webhook_gives_up_after_the_backoff_schedule(serve: Callable[..., LiveServer], receiver: Receiver) -> None:
    receiver.fail_first = 100
    server = serve(workers=0, webhook_backoff=[0.1, 0.1])
    key, _, _ = server.key("5")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    sub = requests.post(
        server.url + "/v2/vidu-q1-reference-to-video", json=body(webhook_url=hook), headers={"x-api-key": key}
    ).json()
    requests.post(sub["cancel_url"], headers={"x-api-key": key})
    webhook = _webhook_when(sub["status_url"], key, "failed")
    assert len(webhook["attempts"]) == 3 == len(receiver.deliveries)  # first try + 2 retries
