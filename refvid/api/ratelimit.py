"""Per-key token buckets: ``rate`` submits a minute, bursting up to ``rate``."""

from __future__ import annotations

import math
import threading
import time


class RateLimiter:
    """In-process limiter; a multi-server deployment would keep buckets in a shared store."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key_id: int) -> float:
        """Take a token; returns 0 on success, else the seconds until one is available."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self.refill


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
