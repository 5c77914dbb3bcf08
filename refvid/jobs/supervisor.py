"""The server's housekeeping thread: keep workers alive, recover stuck jobs, expire results,
purge old records and keep SQLite's write-ahead log small.

It is safe on every node at once: each step is a set of conditional updates (recovery is
fenced on the attempt it saw, expiry deletes files before marking, both idempotent).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from refvid.config import Settings
from refvid.db import Database, trim_wal
from refvid.jobs import lifecycle
from refvid.jobs.dispatch import LocalDispatcher, recover_dead
from refvid.jobs.worker import alive_seconds
from refvid.storage import Storage, open_storage

log = logging.getLogger(__name__)

PURGE_SECONDS = 10.0  # how often old records are looked for


RECOVER_SECONDS = 1.0  # how often leases and nodes are checked for the dead


def expire_results(
    db: Database, settings: Settings, now: datetime | None = None, storage: Storage | None = None
) -> list[str]:
    """Delete the files of jobs past their TTL, then mark them; their result then answers 410.

    Files first: a crash in between leaves a job that is still due and is deleted again
    (deleting nothing is no error), never a job marked expired whose files stay forever.
    """
    storage = storage or open_storage(settings)
    expired = lifecycle.due_for_expiry(db, now)
    for job_id in expired:
        storage.delete_job(job_id)
        lifecycle.mark_expired(db, job_id)
    return expired


class Supervisor(threading.Thread):
    """Runs every ``interval`` seconds until stopped."""

    def __init__(
        self, db: Database, settings: Settings, dispatcher: LocalDispatcher | None,
        interval: float = 0.25,
    ) -> None:
        super().__init__(name="refvid-supervisor", daemon=True)
        self.db, self.settings, self.dispatcher, self.interval = db, settings, dispatcher, interval
        self.stopping = threading.Event()
        self.storage = open_storage(settings)
        self._last_purge = 0.0
        self._last_recover = 0.0

    def tick(self) -> None:
        """One round of housekeeping."""
        if self.dispatcher is not None:
            self.dispatcher.check()
        if time.monotonic() - self._last_recover >= min(RECOVER_SECONDS, alive_seconds(self.settings.worker_stale_seconds)):
            self._last_recover = time.monotonic()
            if self.dispatcher is not None:
                self.dispatcher.beat()
            recover_dead(self.db, self.settings)
        expire_results(self.db, self.settings, storage=self.storage)
        lifecycle.stop_revoked(self.db, self.settings.result_ttl)
        if self.settings.purge_after > 0 and time.monotonic() - self._last_purge >= PURGE_SECONDS:
            self._last_purge = time.monotonic()
            purged = lifecycle.purge(self.db, float(self.settings.purge_after))
            if purged:
                log.info("purged %d finished request(s) older than %g s", purged, self.settings.purge_after)
        trim_wal(self.db, self.settings.wal_max_bytes)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a database hiccup must not end housekeeping
                log.exception("supervisor")
