"""Webhooks on the wire: signed, verified by a receiver, retried after a failure, visible in status."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from refvid.db import Database
from refvid.jobs import lifecycle
from refvid.jobs.webhooks import SIGNATURE_HEADER, verify_signature

from ..peers import drip_headers, huge_answer, peer
from .live import LiveServer, body
from .process import MIB, ServerProcess

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")


class Receiver(ThreadingHTTPServer):
    """Answers 500 to the first ``fail_first`` deliveries, then 200; keeps every delivery."""

    def __init__(self, fail_first: int, host: str = "127.0.0.1") -> None:
        self.fail_first = fail_first
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        super().__init__((host, 0), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/hook"


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


def finish(db: Database, request_id: str) -> None:
    """Bring a queued request to a final state, as a worker whose render failed would."""
    assert lifecycle.fail(db, request_id, http_status=500, code="internal_error", message="test", ttl=60)


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
    with receiving(fail_first=1) as server:
        yield server


@contextmanager
def receiving(fail_first: int, host: str = "127.0.0.1") -> Iterator[Receiver]:
    server = Receiver(fail_first, host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_is_signed_retried_and_recorded(serve: Callable[..., LiveServer], receiver: Receiver) -> None:
    server = serve(workers=0, webhook_backoff=[0.2, 0.2])
    key, secret, _ = server.key("5")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    sub = requests.post(
        server.url + "/v2/vidu-q1-reference-to-video",
        json=body(webhook_url=hook, payload={"user": "u1"}), headers={"x-api-key": key},
    ).json()
    finish(server.state.db, sub["request_id"])

    deadline = time.monotonic() + 20
    while len(receiver.deliveries) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.deliveries) == 2
    for headers, raw in receiver.deliveries:
        assert verify_signature(secret, raw, headers[SIGNATURE_HEADER.lower()])
        assert not verify_signature(secret, raw + b" ", headers[SIGNATURE_HEADER.lower()])
        assert not verify_signature("whsec_wrong", raw, headers[SIGNATURE_HEADER.lower()])
        doc = json.loads(raw)
        assert doc["request_id"] == sub["request_id"] and doc["status"] == "FAILED"
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
    finish(server.state.db, sub["request_id"])
    webhook = _webhook_when(sub["status_url"], key, "failed")
    assert len(webhook["attempts"]) == 3 == len(receiver.deliveries)  # first try + 2 retries


def _submit(server_url: str, key: str, hook: str) -> dict[str, Any]:
    response = requests.post(
        server_url + "/v2/vidu-q1-reference-to-video", json=body(webhook_url=hook), headers={"x-api-key": key}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_a_request_cancelled_before_it_started_sends_no_webhook(
    serve: Callable[..., LiveServer], receiver: Receiver
) -> None:
    server = serve(workers=0, webhook_backoff=[0.1, 0.1])
    key, _, _ = server.key("5")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    cancelled = _submit(server.url, key, hook)
    requests.post(cancelled["cancel_url"], headers={"x-api-key": key}).raise_for_status()
    failed = _submit(server.url, key, hook)  # a control that does reach the receiver
    finish(server.state.db, failed["request_id"])
    _webhook_when(failed["status_url"], key, "delivered")
    time.sleep(0.5)  # several sender rounds
    assert [h["x-refvid-request-id"] for h, _ in receiver.deliveries] == [failed["request_id"]] * 2
    webhook = requests.get(cancelled["status_url"], headers={"x-api-key": key}).json()["webhook"]
    assert webhook["state"] == "skipped" and webhook["attempts"] == []


@pytest.mark.slow
def test_a_huge_webhook_answer_leaves_api_memory_flat(serve_process: Callable[..., ServerProcess]) -> None:
    # The receiver answers 200 with a 200 MiB body. Only the status matters; reading the
    # body whole grew the API by the body's size on every attempt.
    with peer(huge_answer(200, 200 * MIB)) as big:
        server = serve_process(workers=0)
        key, _, _ = server.key("5")
        sub = _submit(server.url, key, big.url("/hook"))
        requests.get(f"{server.url}/metrics")  # settle the first-request allocations
        server.reset_peak()
        before = server.rss()
        finish(server.db, sub["request_id"])
        webhook = _webhook_when(sub["status_url"], key, "delivered")
        growth = server.peak() - before
    assert webhook["attempts"][0]["status_code"] == 200
    print(f"API peak growth during a 200 MiB webhook answer: {growth / MIB:.1f} MiB")
    assert growth < 40 * MIB


@pytest.mark.slow
def test_a_dripping_receiver_is_cut_off_and_holds_no_one_else_up(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, webhook_timeout=2.0, webhook_backoff=[30.0], webhook_per_host=2)
    slow_key, _, _ = server.key("10", name="slow")
    good_key, _, _ = server.key("10", name="good")
    # Another host: 127.0.0.2 (Linux routes all of 127/8 to the loopback interface).
    with peer(drip_headers(0.05)) as drip, receiving(fail_first=0, host="127.0.0.2") as receiver:
        slow = [_submit(server.url, slow_key, drip.url("/hook")) for _ in range(4)]
        good = _submit(server.url, good_key, receiver.url)
        started = time.monotonic()
        for sub in slow:
            finish(server.state.db, sub["request_id"])
        _until(lambda: drip.open_connections == 2)  # the per-host cap, not all four
        finish(server.state.db, good["request_id"])
        _webhook_when(good["status_url"], good_key, "delivered")
        delivered_after = time.monotonic() - started
        assert drip.open_connections == 2, "the good webhook went out while the drips still ran"
        assert drip.connections == 2
        # Each dripping attempt ends at its 2 s deadline; then the next two get their turn.
        _until(lambda: drip.connections == 4, timeout=15)
        errors = [
            attempt["error"]
            for sub in slow
            for attempt in requests.get(sub["status_url"], headers={"x-api-key": slow_key}).json()["webhook"]["attempts"]
        ]
    assert delivered_after < 2.0
    assert len(errors) >= 2
    assert all("did not answer within 2 s" in error for error in errors), errors


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)
