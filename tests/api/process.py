"""``refvid serve`` as its own process on 127.0.0.1, so its memory can be measured alone.

The test talks to it over HTTP and to its database directly (keys, job states), as the
``refvid keys`` commands do. Memory is read from ``/proc``: ``VmRSS`` now and ``VmHWM``,
the peak since start or since :meth:`ServerProcess.reset_peak`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from refvid.billing import create_key
from refvid.billing.credits import to_units
from refvid.config import Settings
from refvid.db import Database, open_db

from .live import TEST_DEFAULTS, make_settings

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def _env_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def status_kib(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status`` (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


@dataclass
class ServerProcess:
    """A running ``refvid serve`` child process."""

    settings: Settings
    process: subprocess.Popen[bytes]
    url: str
    db: Database

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        """Resident memory now, bytes."""
        return status_kib(self.pid, "VmRSS") * 1024

    def peak(self) -> int:
        """Peak resident memory since start or the last reset, bytes."""
        return status_kib(self.pid, "VmHWM") * 1024

    def reset_peak(self) -> None:
        """Start measuring the peak from the current resident size."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def worker_pids(self) -> list[int]:
        """The render worker processes (multiprocessing spawn children)."""
        pids = []
        for child in children(self.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                pids.append(child)
        return pids

    def key(self, credits: str = "100", name: str = "test") -> tuple[str, str, int]:
        """A new key with ``credits``: (key, webhook secret, id)."""
        new = create_key(self.db, name, to_units(credits))
        return new.key, new.webhook_secret, new.id

    def wait_workers(self, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = requests.get(f"{self.url}/readyz", timeout=5)
            if ready.status_code == 200 and ready.json()["workers"] >= count:
                return
            time.sleep(0.1)
        raise AssertionError("workers did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(home: Path, log: Path, **overrides: Any) -> ServerProcess:
    """Start ``refvid serve`` with the test settings plus ``overrides``; wait until it answers."""
    settings = make_settings(home, **overrides)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFVID_")}
    values = {"home": home, **TEST_DEFAULTS, **overrides}
    env.update({f"REFVID_{name.upper()}": _env_value(value) for name, value in values.items()})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "refvid.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home.parent,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return ServerProcess(settings, process, url, open_db(settings))


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``serve_process(**settings)`` starts ``refvid serve`` in a child process on a temp home."""
    running: list[ServerProcess] = []

    def start(**overrides: Any) -> ServerProcess:
        server = start_process(tmp_path / "home", tmp_path / f"server{len(running)}.log", **overrides)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()
