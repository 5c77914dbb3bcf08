"""The server's housekeeping thread: keep workers alive, recover stuck jobs, expire results,
purge old records and keep SQLite's write-ahead log small."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import datetime, timedelta

from refvid.config import Settings
from refvid.db import Database, trim_wal, utcnow
from refvid.jobs import lifecycle
from refvid.jobs.dispatch import LocalDispatcher

log = logging.getLogger(__name__)

PURGE_SECONDS = 10.0  # how often old records are looked for


def expire_results(db: Database, settings: Settings, now: datetime | None = None) -> list[str]:
    """Delete the files of jobs past their TTL; their result then answers 410."""
    expired = lifecycle.due_for_expiry(db, now)
    for job_id in expired:
        shutil.rmtree(settings.results_dir / job_id, ignore_errors=True)
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
        self._last_purge = 0.0

    def tick(self) -> None:
        """One round of housekeeping."""
        if self.dispatcher is not None:
            self.dispatcher.check()
        lifecycle.recover(
            self.db, dead_workers=set(),
            stale_before=utcnow() - timedelta(seconds=self.settings.worker_stale_seconds),
            max_attempts=self.settings.max_attempts, ttl=self.settings.result_ttl,
        )
        expire_results(self.db, self.settings)
        lifecycle.stop_revoked(self.db, self.settings.result_ttl)
        if self.settings.purge_after > 0 and time.monotonic() - self._last_purge >= PURGE_SECONDS:
            self._last_purge = time.monotonic()
            purged = lifecycle.purge(self.db, utcnow() - timedelta(seconds=self.settings.purge_after))
            if purged:
                log.info("purged %d finished request(s) older than %g s", purged, self.settings.purge_after)
        trim_wal(self.db, self.settings.wal_max_bytes)

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a database hiccup must not end housekeeping
                log.exception("supervisor")
