"""Test helpers: real images made with Pillow and a real recording HTTP server on loopback."""

from __future__ import annotations

import io
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from PIL import Image

Handler = Callable[[BaseHTTPRequestHandler], None]


def encode(image: Image.Image | np.ndarray, fmt: str = "JPEG", **params: Any) -> bytes:
    """Encode a Pillow image or RGB array to bytes in ``fmt``."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def quadrants(width: int, height: int) -> np.ndarray:
    """RGB image with four flat, distinct quadrants (red, green / blue, white)."""
    image = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    image[:h2, :w2] = (255, 0, 0)
    image[:h2, w2:] = (0, 255, 0)
    image[h2:, :w2] = (0, 0, 255)
    image[h2:, w2:] = (255, 255, 255)
    return image


@dataclass
class Server:
    """A real HTTP server on a loopback address that records every connection it accepts."""

    host: str
    port: int
    routes: dict[str, Handler]
    connections: list[tuple[str, int]] = field(default_factory=list)
    host_headers: list[str] = field(default_factory=list)
    scheme: str = "http"

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def route(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        """Serve ``body`` at ``path`` with a Content-Length."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            request.send_response(status)
            request.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                request.send_header(name.replace("_", "-"), value)
            request.end_headers()
            request.wfile.write(body)

        self.routes[path] = handler

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.route(path, b"", status=status, Location=location)


def start_server(
    host: str, tls: ssl.SSLContext | None = None
) -> tuple[Server, ThreadingHTTPServer, threading.Thread]:
    """Start a recording server on ``host`` (any free port), optionally speaking TLS."""
    state = Server(host, 0, {})

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.host_headers.append(self.headers.get("Host", ""))
            handler = state.routes.get(self.path.split("?")[0])
            if handler is None:
                self.send_error(404)
                return
            handler(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class RecordingServer(ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request: Any, client_address: Any) -> bool:
            state.connections.append(client_address)
            return True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients that hang up mid-response (size cap, timeouts) are expected

    server = RecordingServer((host, 0), RequestHandler)
    state.port = server.server_address[1]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        state.scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    return state, server, thread


