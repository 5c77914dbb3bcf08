"""``refvid serve``: API processes sharing one socket, and the background once, in their parent.

One Python process serves a few hundred to a couple of thousand small requests a second,
whatever the number of cores: status polling is CPU-bound in the interpreter. So
``refvid serve`` starts one API process per core (``--api-processes``,
``REFVID_API_PROCESSES``; 0 chooses) on one listening socket, and the kernel spreads
connections between them. Render workers, housekeeping and webhooks must exist once, so
they run in the parent (:class:`~refvid.api.background.Background`), which also restarts
an API process that dies and tells the others how many render workers are alive. With one
API process everything runs in that one process, as before.

Anything an API process keeps must then hold across processes: rate buckets live in the
database, the key cache expires within a second, and Prometheus counters are written to
files in a private folder (``PROMETHEUS_MULTIPROC_DIR``) that ``/metrics`` sums.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from types import FrameType

from refvid.config import Settings

log = logging.getLogger(__name__)

MAX_DEFAULT_PROCESSES = 8
RESTART_DELAY = 1.0  # seconds: an API process that cannot start is not respawned in a hot loop
CHECK_SECONDS = 0.25


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def api_process_count(requested: int) -> int:
    """``requested`` API processes, or for 0 one per usable CPU (at most 8)."""
    if requested > 0:
        return requested
    return max(1, min(MAX_DEFAULT_PROCESSES, usable_cpus()))


def serve(settings: Settings, host: str, port: int, api_processes: int) -> None:
    """Serve until interrupted, with ``api_processes`` API processes (1: all in this process)."""
    import uvicorn

    from refvid.api import create_app

    if api_processes <= 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="info", access_log=settings.access_log
        )
        return
    _Parent(settings, host, port, api_processes).run()


def _api_main(settings: Settings, sock: socket.socket, alive: Synchronized[int], count: int) -> None:
    """One API process: the app without its own background, on the parent's socket."""
    import uvicorn

    from refvid.api import create_app

    app = create_app(settings, workers_alive=lambda: int(alive.value), api_processes=count)
    config = uvicorn.Config(
        app, log_level="info", access_log=settings.access_log, lifespan="on", timeout_graceful_shutdown=5
    )
    uvicorn.Server(config).run(sockets=[sock])


class _Parent:
    """Starts the background and the API processes, restarts API processes, stops it all."""

    def __init__(self, settings: Settings, host: str, port: int, count: int) -> None:
        self.settings, self.host, self.port, self.count = settings, host, port, count
        self._ctx = mp.get_context("spawn")
        self._alive: Synchronized[int] = self._ctx.Value("i", 0)
        self._stop = threading.Event()
        self._procs: list[tuple[BaseProcess, float]] = []

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        # Not listening yet: the first API process to be ready starts listening (asyncio's
        # create_server does), so until then clients are refused rather than left waiting.
        sock.set_inheritable(True)
        return sock

    def _spawn(self, sock: socket.socket, n: int) -> tuple[BaseProcess, float]:
        process = self._ctx.Process(
            target=_api_main, args=(self.settings, sock, self._alive, self.count),
            name=f"refvid-api-{n}", daemon=False,
        )
        process.start()
        return process, time.monotonic()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def run(self) -> None:
        from refvid.api.background import Background
        from refvid.api.metrics import Metrics
        from refvid.db import open_db

        self.settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=self.settings.home)  # 0700
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # inherited by the API processes
        db = open_db(self.settings)  # creates the tables before any process uses them
        background = Background(self.settings, db)
        sock = self._bind()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        try:
            background.start(Metrics(db, lambda: background.workers_alive))
            self._alive.value = background.workers_alive
            self._procs = [self._spawn(sock, n) for n in range(self.count)]
            log.info("serving on http://%s:%d with %d API processes", self.host, self.port, self.count)
            while not self._stop.wait(CHECK_SECONDS):
                self._alive.value = background.workers_alive
                for n, (process, started) in enumerate(self._procs):
                    if not process.is_alive() and time.monotonic() - started >= RESTART_DELAY:
                        log.warning("API process %s exited with %s; restarting", process.pid, process.exitcode)
                        self._procs[n] = self._spawn(sock, n)
        finally:
            self._stop_api()
            sock.close()
            background.stop()
            db.dispose()
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _stop_api(self) -> None:
        # SIGTERM: uvicorn stops accepting, finishes what is in flight, runs the lifespan's end.
        for process, _ in self._procs:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process, _ in self._procs:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
