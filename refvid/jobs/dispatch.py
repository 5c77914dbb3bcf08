"""Local dispatch: a pool of spawned worker processes, restarted when one dies.

The job store knows nothing of processes; this module only starts workers that claim
from the store, registers this node (:mod:`refvid.jobs.nodes`) so other nodes can tell it
is alive, and tells the store which worker ids are gone so their jobs are recovered. It
runs inside ``refvid serve`` and, alone, as ``refvid worker`` on GPU machines.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import secrets
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from refvid.config import Settings
from refvid.db import Database
from refvid.jobs import lifecycle, nodes
from refvid.jobs.worker import worker_main

log = logging.getLogger(__name__)


RESTART_DELAY = 1.0  # seconds: a worker that cannot start must not be respawned in a hot loop


@dataclass
class _Slot:
    prefix: str
    process: BaseProcess
    started: float

    @property
    def worker_id(self) -> str:
        return f"{self.prefix}.{self.process.pid}"


class LocalDispatcher:
    """Keeps ``settings.workers`` worker processes alive."""

    def __init__(
        self, settings: Settings, db: Database, *, kind: str = "serve", devices: list[str] | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.kind = kind
        # GPUs to share out, one per render process in turn (CUDA_VISIBLE_DEVICES of each).
        self.devices = devices or []
        self.instance = secrets.token_hex(6)
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._slots: list[_Slot] = []
        self._started = 0

    def start(self) -> None:
        """Register this node, recover what provably dead nodes left PROCESSING, start the workers.

        Only the provably dead: jobs of nodes that are not registered, whose registration
        went stale, or that were processes of this host and are gone, and jobs whose lease
        ran out. Renders running on other live machines keep their jobs.
        """
        nodes.register(
            self.db, self.instance, kind=self.kind, pool=self.settings.pool, slots=self.settings.workers
        )
        recovered = recover_dead(self.db, self.settings)
        if recovered:
            log.warning("start-up: recovered %d unfinished job(s)", len(recovered))
        self._slots = [self._spawn(n) for n in range(self.settings.workers)]

    def _spawn(self, n: int) -> _Slot:
        self._started += 1
        prefix = f"{self.instance}.{n}.{self._started}"
        device = self.devices[n % len(self.devices)] if self.devices else None
        process = self._ctx.Process(
            target=worker_main, args=(self.settings, prefix, self._stop, device),
            name=f"refvid-worker-{n}", daemon=True,
        )
        process.start()
        return _Slot(prefix, process, time.monotonic())

    def check(self) -> list[str]:
        """Replace dead workers and recover their jobs; returns the recovered job ids."""
        recovered: list[str] = []
        for n, slot in enumerate(self._slots):
            if slot.process.is_alive() or self._stop.is_set():
                continue
            if time.monotonic() - slot.started < RESTART_DELAY:
                continue
            log.warning("worker %s exited with %s", slot.worker_id, slot.process.exitcode)
            recovered += lifecycle.recover(
                self.db, dead_workers={slot.worker_id}, stale_before=None,
                max_attempts=self.settings.max_attempts, ttl=self.settings.result_ttl,
            )
            self._slots[n] = self._spawn(n)
        return recovered

    @property
    def alive(self) -> int:
        """Worker processes currently running."""
        return sum(1 for slot in self._slots if slot.process.is_alive())

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers (for tests and operators)."""
        return [slot.process.pid for slot in self._slots if slot.process.pid is not None]

    def stop(self, timeout: float = 5.0) -> None:
        """Ask workers to finish their loop; terminate those still rendering.

        Their interrupted jobs go back to the queue without counting as an attempt.
        """
        self._stop.set()
        for slot in self._slots:
            slot.process.join(timeout=0.5)
        for slot in self._slots:
            if slot.process.is_alive():
                slot.process.terminate()
                slot.process.join(timeout=timeout)
        released = lifecycle.release(self.db, {slot.worker_id for slot in self._slots})
        if released:
            log.warning("shutdown: %d interrupted job(s) back in the queue", released)
        nodes.deregister(self.db, self.instance)

    def beat(self) -> None:
        """Renew this node's registration."""
        nodes.beat(self.db, self.instance, self.alive)


def recover_dead(db: Database, settings: Settings) -> list[str]:
    """Re-queue (or fail, past the attempt limit) jobs whose owner is provably dead or whose lease ran out."""
    return lifecycle.recover(
        db, dead_workers=nodes.dead_owners(db, settings.worker_stale_seconds), stale_before=None,
        max_attempts=settings.max_attempts, ttl=settings.result_ttl, expired_leases=True,
        lease=settings.worker_stale_seconds,
    )
