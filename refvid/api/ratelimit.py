"""Per-key token buckets kept in the database, so every API process shares one limit.

``rate`` actions a minute, bursting up to ``rate``. Taking a token is one conditional
UPDATE (refill and take, only if a whole token is there), so concurrent processes can
never take more than the bucket holds; a key's first use inserts its bucket.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from refvid.billing.models import RateBucket
from refvid.db import Database


class RateLimiter:
    """The ``scope`` buckets (one per key) of ``per_minute`` actions, in ``db``."""

    def __init__(
        self, db: Database, scope: str, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.db, self.scope, self.clock = db, scope, clock
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0

    def _level(self, now: float) -> ColumnElement[float]:
        # Tokens now: refilled since the last use, never above capacity. Wall-clock seconds,
        # as every API process reads the same clock; a clock stepping back refills nothing.
        elapsed = case((RateBucket.updated_at < now, now - RateBucket.updated_at), else_=0.0)
        level = RateBucket.tokens + elapsed * self.refill
        return case((level > self.capacity, self.capacity), else_=level)

    def acquire(self, key_id: int) -> float:
        """Take a token; returns 0 on success, else the seconds until one is available."""
        for _ in range(3):
            now = self.clock()
            mine = (RateBucket.key_id == key_id) & (RateBucket.scope == self.scope)
            with self.db.write.begin() as session:
                taken = session.execute(
                    update(RateBucket)
                    .where(mine, self._level(now) >= 1.0)
                    .values(tokens=self._level(now) - 1.0, updated_at=now)
                )
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return 0.0
                level = session.scalar(select(self._level(now)).where(mine))
                if level is not None:
                    return (1.0 - float(level)) / self.refill
            try:
                with self.db.write.begin() as session:
                    session.add(
                        RateBucket(key_id=key_id, scope=self.scope, tokens=self.capacity - 1.0, updated_at=now)
                    )
                return 0.0
            except IntegrityError:  # another process made the bucket first: take from it
                continue
        raise RuntimeError(f"could not take a {self.scope} token for key {key_id}")


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
