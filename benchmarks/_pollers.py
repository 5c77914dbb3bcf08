"""What the status-polling benchmarks share (``reads.py``, ``api_latency.py``).

The demo request, ``refvid serve`` as a subprocess on a free port, and closed-loop pollers of
one status URL.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import requests

DEMO = ("astronaut.jpg", "coffee.jpg", "chelsea.jpg")
PROMPT = "the astronaut, then cut to the coffee, then a close-up of the cat, slow push in"
FINAL = ("COMPLETED", "FAILED", "CANCELLED")


def demo_refs() -> list[str]:
    """The three demo photos as bare base64."""
    return [base64.b64encode((resources.files("refvid.demo") / n).read_bytes()).decode() for n in DEMO]


def start_server(home: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """``refvid serve`` (one render worker) on ``home`` and a free port; returns once /readyz answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "REFVID_HOME": str(home), "REFVID_WORKERS": "1", "REFVID_RATE_LIMIT": "100000", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "refvid.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=2).ok:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become ready")


def poll(
    status_url: str, key: str, count: int, seconds: float,
    stop: threading.Event | None = None, only: str | None = None,
) -> tuple[list[float], float]:
    """``count`` closed-loop pollers of ``status_url``: the latencies (s) and the wall time they took.

    Threads, each with one keep-alive ``http.client`` connection rather than ``requests``: on
    two shared cores the client's own CPU per request would otherwise be measured more than the
    server's. They run for ``seconds`` or until ``stop`` is set. With ``only`` (a status), only
    answers in that status count, and a final status stops every poller.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds
    parts = urlsplit(status_url)
    done = stop if stop is not None else threading.Event()

    def poller() -> None:
        mine: list[float] = []
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            while time.monotonic() < end and not done.is_set():
                started = time.perf_counter()
                conn.request("GET", parts.path, headers={"x-api-key": key})
                response = conn.getresponse()
                text = response.read()
                elapsed = time.perf_counter() - started
                assert response.status == 200, response.status
                if only is not None:
                    status = json.loads(text)["status"]
                    if status in FINAL:
                        done.set()
                    if status != only:
                        continue
                mine.append(elapsed)
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=poller) for _ in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.monotonic() - started
