"""/metrics: labels stay bounded whatever clients send, and operators can keep it private."""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests

from .live import LiveServer
from .process import MIB, ServerProcess, free_port

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")


def _raw(url: str, method: str, path: str = "/healthz") -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_unique_methods_do_not_grow_metrics_or_memory(serve_process: Callable[..., ServerProcess]) -> None:
    # h11 accepts any token as a method; each one used to become a new label value, kept forever.
    server = serve_process(workers=0)
    for _ in range(3):  # warm up the routes and the exposition
        requests.get(f"{server.url}/healthz")
        requests.get(f"{server.url}/metrics")
    before_text = requests.get(f"{server.url}/metrics").text
    before = server.rss()
    started = time.monotonic()
    count = 1000
    answers = set()
    for _ in range(count):
        method = "X" + secrets.token_hex(6 * 1024)  # 12 KiB, unique
        answers.add(_raw(server.url, method)[:12])
    after_text = requests.get(f"{server.url}/metrics").text
    growth = server.rss() - before
    print(
        f"{count} unique 12 KiB methods in {time.monotonic() - started:.1f} s: answers {answers}, "
        f"/metrics {len(before_text)} -> {len(after_text)} bytes, API RSS {growth / MIB:+.1f} MiB"
    )
    # h11 passes any token to the app (405 here); httptools, when installed, refuses it (400).
    assert answers <= {b"HTTP/1.1 405", b"HTTP/1.1 400"}
    if b"HTTP/1.1 405" in answers:
        assert 'method="other",route="/healthz",status="405"' in after_text
    assert len(after_text) - len(before_text) < 2000  # one new series at most, not a thousand
    assert growth < 12 * MIB  # the old labels alone held more than 12 MiB


def test_any_method_the_app_sees_is_labelled_other(serve: Callable[..., LiveServer]) -> None:
    # Whatever HTTP parser runs, the app itself must bound the label: call it directly.
    server = serve(workers=0)
    app = server._server.config.app

    async def scrape() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://refvid") as client:
            for _ in range(50):
                assert (await client.request("X" + secrets.token_hex(512), "/healthz")).status_code == 405
            return (await client.get("/metrics")).text

    with ThreadPoolExecutor(1) as own:  # a thread of its own: the test's may run a loop already
        text = own.submit(asyncio.run, scrape()).result()
    assert set(re.findall(r'method="([^"]*)",route="/healthz",status="405"', text)) == {"other"}
    assert 'method="other",route="/healthz",status="405"} 50.0' in text


def test_known_methods_keep_their_names(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0)
    assert _raw(server.url, "DELETE").startswith(b"HTTP/1.1 405")
    text = requests.get(f"{server.url}/metrics").text
    assert 'method="DELETE",route="/healthz",status="405"' in text
    assert 'method="GET",route="/metrics"' in requests.get(f"{server.url}/metrics").text


def test_a_metrics_token_is_required_when_set(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, metrics_token="s3cret-token")
    refused = requests.get(f"{server.url}/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert "REFVID_METRICS_TOKEN" in refused.text
    wrong = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    unicode = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer \u00e9".encode()})
    assert unicode.status_code == 401
    ok = requests.get(f"{server.url}/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "refvid_queue_depth" in ok.text


def test_metrics_can_move_to_their_own_address(serve: Callable[..., LiveServer]) -> None:
    port = free_port()
    server = serve(workers=0, metrics_listen=f"127.0.0.1:{port}")
    assert requests.get(f"{server.url}/metrics").status_code == 404
    requests.get(f"{server.url}/healthz")
    text = requests.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'method="GET",route="/healthz",status="200"' in text
