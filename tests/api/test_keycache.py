"""The key cache: a key is remembered for a second at most, and memory stays bounded."""

from __future__ import annotations

from refvid.api.keycache import KeyCache
from refvid.api.reads import KeyRow


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def _row(key_id: int) -> KeyRow:
    return KeyRow(key_id, "k", "whsec", 1000)


def test_a_key_is_forgotten_after_the_ttl() -> None:
    clock = Clock()
    cache = KeyCache(ttl=1.0, clock=clock)
    cache.put("h", _row(1))
    clock.now += 0.99
    assert cache.get("h") == _row(1)
    clock.now += 0.02
    assert cache.get("h") is None


def test_forget_drops_every_entry_of_a_key() -> None:
    cache = KeyCache(clock=Clock())
    cache.put("a", _row(1))
    cache.put("b", _row(1))
    cache.put("c", _row(2))
    cache.forget(1)
    assert cache.get("a") is None and cache.get("b") is None and cache.get("c") == _row(2)


def test_the_cache_never_holds_more_than_its_bound() -> None:
    clock = Clock()
    cache = KeyCache(ttl=1.0, max_keys=3, clock=clock)
    for n in range(3):
        cache.put(f"old{n}", _row(n))
    clock.now += 2  # all stale: dropped to make room
    cache.put("new", _row(9))
    assert cache.get("new") == _row(9) and len(cache._rows) == 1
    for n in range(10):
        cache.put(f"fresh{n}", _row(n))
        assert len(cache._rows) <= 3
