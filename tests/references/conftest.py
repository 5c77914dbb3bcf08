"""Fixtures for reference tests: recording HTTP servers on loopback and a connect guard."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from .helpers import Server, start_server


@pytest.fixture
def server_factory() -> Iterator[Callable[[str], Server]]:
    """Start recording HTTP servers on loopback addresses; all are stopped afterwards."""
    running: list[ThreadingHTTPServer] = []

    def start(host: str = "127.0.0.1") -> Server:
        state, server, _ = start_server(host)
        running.append(server)
        return state

    yield start
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(server_factory: Callable[[str], Server]) -> Server:
    """One recording HTTP server on 127.0.0.1."""
    return server_factory("127.0.0.1")


@pytest.fixture(autouse=True)
def connect_attempts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every outgoing connect; refuse non-loopback connects and DNS for other names."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        attempts.append(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(str(address[0]).split("%")[0])
            if not ip.is_loopback:
                raise OSError(f"test guard: refusing to connect to non-loopback {ip}")
        real_connect(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name != "localhost":
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name.split("%")[0])
            except OSError:
                raise OSError(f"test guard: refusing a DNS lookup of {name!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts
