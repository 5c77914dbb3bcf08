"""A short-lived cache of authenticated keys: one database read per key per second at most.

Every route checks the ``x-api-key``. A key is remembered for ``ttl`` seconds (1 s), so a
revocation or a credit change made anywhere (``refvid keys``, another API process, another
server) reaches every process within a second without any message between them. The
status, result and list reads do not wait even that long: they read the key's row with
the job (:mod:`refvid.api.reads`). Unknown keys are never remembered, so a key created a
moment ago works at once, and guessing fills nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from refvid.api.reads import KeyRow

KEY_CACHE_SECONDS: Final = 1.0
MAX_KEYS: Final = 10_000


class KeyCache:
    """Key hash → :class:`KeyRow`, each for ``ttl`` seconds; at most ``max_keys`` held."""

    def __init__(
        self, ttl: float = KEY_CACHE_SECONDS, max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.max_keys, self.clock = ttl, max_keys, clock
        self._rows: dict[str, tuple[float, KeyRow]] = {}

    def get(self, key_hash: str) -> KeyRow | None:
        """The remembered key, unless it is older than ``ttl``."""
        found = self._rows.get(key_hash)
        if found is None:
            return None
        if self.clock() >= found[0]:
            self._rows.pop(key_hash, None)
            return None
        return found[1]

    def put(self, key_hash: str, row: KeyRow) -> None:
        """Remember a key that was just read from the database."""
        if len(self._rows) >= self.max_keys:
            now = self.clock()
            self._rows = {h: entry for h, entry in self._rows.items() if entry[0] > now}
            if len(self._rows) >= self.max_keys:  # all fresh: forget them rather than grow
                self._rows.clear()
        self._rows[key_hash] = (self.clock() + self.ttl, row)

    def forget(self, key_id: int) -> None:
        """Drop a key seen revoked (or changed) by a read."""
        self._rows = {h: entry for h, entry in self._rows.items() if entry[1].id != key_id}
