"""Request bodies: a key that cannot pay is refused unread, and bodies in memory are bounded."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from refvid.billing.credits import to_units
from refvid.billing.keys import add_credits

from .live import LiveServer, body
from .process import MIB, ServerProcess

pytestmark = pytest.mark.slow  # live server: outside the fast lane (-m "not slow")

V2 = "/v2/vidu-q1-reference-to-video"


def _head(key: str, length: int, *, expect: bool = False) -> bytes:
    lines = [
        f"POST {V2} HTTP/1.1", "Host: refvid", f"x-api-key: {key}", "Content-Type: application/json",
        f"Content-Length: {length}",
    ]
    if expect:
        lines.append("Expect: 100-continue")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_line(conn: socket.socket, timeout: float = 10.0) -> bytes:
    conn.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


@contextmanager
def _holding(url: str, key: str, length: int, sent: int) -> Iterator[socket.socket]:
    """A submit that announces ``length`` bytes, sends ``sent`` of them, then waits."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)))
    try:
        conn.sendall(_head(key, length) + b" " * sent)
        yield conn
    finally:
        conn.close()


def _padded(size: int) -> bytes:
    """A JSON submit of about ``size`` bytes (its one reference is not an image: 400)."""
    data = body(image_urls=["A" * max(16, size - 200)])
    return json.dumps(data).encode()


def _post(url: str, key: str, raw: bytes) -> requests.Response:
    return requests.post(
        url + V2, data=raw, headers={"x-api-key": key, "Content-Type": "application/json"}, timeout=60
    )


def test_a_zero_credit_key_is_refused_before_its_body_is_read(
    serve_process: Callable[..., ServerProcess],
) -> None:
    server = serve_process(workers=0)
    key, _, _ = server.key("0")
    host, port = server.url.removeprefix("http://").split(":")
    # Asked to wait for a go-ahead, the client gets the 406 without sending a byte of its 50 MiB.
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(_head(key, 50 * MIB, expect=True))
        assert _status_line(conn) == b"HTTP/1.1 406 Not Acceptable"
    # Clients that send the body first get the same answer; the body is dropped as it comes.
    big = b" " * (99 * MIB)
    requests.get(f"{server.url}/healthz")
    server.reset_peak()
    before = server.rss()
    answers: list[int] = []

    def send() -> None:
        answers.append(_post(server.url, key, big).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    growth = server.peak() - before
    print(f"eight concurrent 99 MiB bodies from a key with 0 credits: API peak growth {growth / MIB:.1f} MiB")
    assert answers == [406] * 8
    assert growth < 40 * MIB  # it was 2.5 GiB


def test_a_replay_with_a_known_idempotency_key_is_not_refused_for_credits(
    serve: Callable[..., LiveServer],
) -> None:
    server = serve(workers=0)
    key, _, key_id = server.key("1")
    headers = {"x-api-key": key, "Idempotency-Key": "order-1"}
    first = requests.post(server.url + V2, json=body(), headers=headers)
    assert first.status_code == 202
    again = requests.post(server.url + V2, json=body(), headers=headers)  # the balance is 0 now
    assert again.status_code == 202 and again.json()["request_id"] == first.json()["request_id"]
    other = requests.post(server.url + V2, json=body(), headers={"x-api-key": key})
    assert other.status_code == 406 and other.json()["code"] == "insufficient_credits"
    assert "cheapest request costs 1" in other.json()["error"]
    add_credits(server.state.db, key_id, to_units("1"))
    assert requests.post(server.url + V2, json=body(), headers={"x-api-key": key}).status_code == 202


def test_bodies_beyond_the_budget_get_503_until_one_is_done(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, body_buffer_bytes=12 * MIB)  # one key may hold 6 MiB
    keys = [server.key("10", name=f"k{n}")[0] for n in range(3)]
    five = _padded(5 * MIB)
    with _holding(server.url, keys[0], len(five), sent=MIB):
        time.sleep(0.3)  # the server has reserved the 5 MiB it announced
        assert _post(server.url, keys[1], five).status_code == 400  # 10 of 12 MiB: fine
        with _holding(server.url, keys[1], len(five), sent=MIB):
            time.sleep(0.3)
            full = _post(server.url, keys[2], five)
            assert full.status_code == 503
            assert full.headers["Retry-After"] == "5" and full.json()["code"] == "server_busy"
            assert _post(server.url, keys[2], json.dumps(body()).encode()).status_code == 202  # small fits
            mine = _post(server.url, keys[0], _padded(2 * MIB))  # key 0 would hold 7 of its 6 MiB
            assert mine.status_code == 503 and "this key's other requests" in mine.json()["error"]
    time.sleep(0.3)  # the held connections are closed: their reservations are given back
    assert _post(server.url, keys[2], five).status_code == 400
    assert server.state.bodies.held == 0


def test_a_body_that_arrives_too_slowly_is_cut_off(serve: Callable[..., LiveServer]) -> None:
    server = serve(workers=0, body_timeout=1.0)
    key, _, _ = server.key("10")
    started = time.monotonic()
    with _holding(server.url, key, 100_000, sent=10) as conn:
        assert _status_line(conn) == b"HTTP/1.1 408 Request Timeout"
    assert time.monotonic() - started < 5
    assert server.state.bodies.held == 0


def test_concurrent_large_bodies_keep_api_memory_bounded(serve_process: Callable[..., ServerProcess]) -> None:
    server = serve_process(workers=0)  # the default budget: 256 MiB, half of it per key
    keys = [server.key("100", name=f"k{n}")[0] for n in range(4)]
    big = json.dumps(body(image_urls=["QUFB" * (13 * MIB // 4)] * 7)).encode()  # 91 MiB of base64
    requests.get(f"{server.url}/healthz")
    server.reset_peak()
    before = server.rss()
    answers: list[int] = []

    def send(key: str) -> None:
        answers.append(_post(server.url, key, big).status_code)

    threads = [threading.Thread(target=send, args=(key,)) for key in keys for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    growth = server.peak() - before
    print(f"eight concurrent 91 MiB bodies: answers {sorted(answers)}, API peak growth {growth / MIB:.0f} MiB")
    assert set(answers) <= {400, 503} and 503 in answers and 400 in answers
    assert growth < 700 * MIB  # 2.5-3 GiB before the budget
