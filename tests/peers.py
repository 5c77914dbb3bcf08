"""Misbehaving HTTP peers on loopback: servers that drip, stall or answer with far too much.

Each is a real TCP server in a daemon thread speaking just enough HTTP/1.1 by hand to do
its one bad thing; ``connections`` counts who came, ``open_connections`` who is still there.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Behaviour = Callable[[socket.socket, bytes], None]


@dataclass
class Peer:
    """A running misbehaving server."""

    port: int
    connections: int = 0
    open_connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _read_request(conn: socket.socket) -> bytes:
    """The request head and, if announced, its body (small bodies only)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


@contextmanager
def peer(behaviour: Behaviour) -> Iterator[Peer]:
    """Run ``behaviour(conn, request)`` for every connection to a new loopback server."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    state = Peer(listener.getsockname()[1])

    def handle(conn: socket.socket) -> None:
        with state.lock:
            state.open_connections += 1
        try:
            request = _read_request(conn)
            with state.lock:
                state.requests.append(request)
            behaviour(conn, request)
        except OSError:
            pass  # the client hung up: that is what these tests want
        finally:
            with state.lock:
                state.open_connections -= 1
            conn.close()

    def serve() -> None:
        while not state.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with state.lock:
                state.connections += 1
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        thread.join(timeout=5)
        listener.close()


def drip_headers(interval: float, stop: threading.Event | None = None) -> Behaviour:
    """Answer ``200`` and then one header byte every ``interval`` s, never ending the head."""

    def behaviour(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        while stop is None or not stop.is_set():
            time.sleep(interval)
            conn.sendall(b"a")

    return behaviour


def huge_answer(status: int, total: int, chunk: int = 1 << 20) -> Behaviour:
    """Answer ``status`` with a chunked body of ``total`` bytes, as fast as the reader takes it."""
    block = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"

    def behaviour(conn: socket.socket, request: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 %d Whatever\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
            % status
        )
        sent = 0
        while sent < total:
            conn.sendall(block)
            sent += chunk
        conn.sendall(b"0\r\n\r\n")

    return behaviour


def answer(status: int, body: bytes = b"") -> Behaviour:
    """A well-behaved answer."""

    def behaviour(conn: socket.socket, request: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (status, len(body), body)
        )

    return behaviour
