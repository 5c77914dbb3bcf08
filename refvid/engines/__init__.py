"""Engines by name. Adding one: a module with a class following ``base.Engine``, listed here."""

from __future__ import annotations

from refvid.engines.base import Engine, Plan, VideoSpec
from refvid.errors import EngineUnavailable

ENGINE_NAMES = ("motion", "wan")


def get_engine(name: str) -> Engine:
    """Return a ready engine; heavy engines import their dependencies only here."""
    if name == "motion":
        from refvid.engines.motion import MotionEngine

        return MotionEngine()
    if name == "wan":
        from refvid.engines.wan import load_wan_engine

        return load_wan_engine()
    raise EngineUnavailable(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


__all__ = ["ENGINE_NAMES", "Engine", "Plan", "VideoSpec", "get_engine"]
