"""A real refvid server on 127.0.0.1 (uvicorn in a thread, workers as real processes)."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import uvicorn
from PIL import Image

from refvid.api import create_app
from refvid.api.deps import AppState
from refvid.billing import create_key
from refvid.billing.credits import to_units
from refvid.config import Settings


@dataclass
class LiveServer:
    """A running server; ``url`` is its base URL."""

    settings: Settings
    state: AppState = field(init=False)
    url: str = field(init=False)
    _server: uvicorn.Server = field(init=False)
    _thread: threading.Thread = field(init=False)

    def start(self) -> LiveServer:
        app = create_app(self.settings)
        self.state = app.state.refvid
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)

    def key(self, credits: str = "100", name: str = "test") -> tuple[str, str, int]:
        """A new key with ``credits``: (key, webhook secret, id)."""
        new = create_key(self.state.db, name, to_units(credits))
        return new.key, new.webhook_secret, new.id

    def wait_workers(self, count: int = 1, timeout: float = 30.0) -> None:
        """Block until ``count`` workers run and /readyz says so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if requests.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                assert self.state.dispatcher is not None
                if self.state.dispatcher.alive >= count:
                    return
            time.sleep(0.05)
        raise AssertionError("workers did not start")


TEST_DEFAULTS: dict[str, Any] = {
    "workers": 1,
    "api_processes": 1,  # one process, so tests can measure its memory; test_serving runs several
    "rate_limit": 1000,
    "webhook_backoff": [0.3, 0.3, 0.3],
    "poll_interval": 0.05,
    "allow_private_networks": ["127.0.0.0/8"],
}


def make_settings(home: Any, **overrides: Any) -> Settings:
    """Test settings: a temp home, one worker, fast polls and webhook retries."""
    return Settings(**{"home": home, **TEST_DEFAULTS, **overrides})


def image_b64(seed: int = 0, size: tuple[int, int] = (256, 256)) -> str:
    """A small, distinct PNG as bare base64."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.integers(0, 255, 3)
    pixels = np.stack(
        [(xx * 255 // w + base[0]) % 256, (yy * 255 // h + base[1]) % 256, np.full_like(xx, base[2])],
        axis=-1,
    ).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def body(**overrides: Any) -> dict[str, Any]:
    """A small valid request: 5 s, 1:1, one reference."""
    data: dict[str, Any] = {
        "prompt": "the scene, then a close-up",
        "image_urls": [image_b64()],
        "aspect_ratio": "1:1",
        "duration": 5,
        "seed": 7,
    }
    data.update(overrides)
    return data


def wait_status(url: str, key: str, request_id: str, statuses: set[str], timeout: float = 60.0) -> dict[str, Any]:
    """Poll the status until it is one of ``statuses``; return the document."""
    deadline = time.monotonic() + timeout
    doc: dict[str, Any] = {}
    while time.monotonic() < deadline:
        doc = requests.get(f"{url}/v2/requests/{request_id}/status", headers={"x-api-key": key}, timeout=10).json()
        if doc["status"] in statuses:
            return doc
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} stayed {doc.get('status')}")


class _PngHandler(BaseHTTPRequestHandler):
    png = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def png_server(png: bytes) -> Iterator[str]:
    """Serve ``png`` at a 127.0.0.1 URL for the duration of the block."""
    handler = type("Handler", (_PngHandler,), {"png": png})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ref.png"
    finally:
        server.shutdown()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """``serve(**settings)`` starts a server on a temp home; same home for restarts."""
    running: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(make_settings(tmp_path / "home", **overrides)).start()
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()
