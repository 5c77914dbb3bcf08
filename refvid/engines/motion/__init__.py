"""The default CPU engine: camera moves over the references, no model weights."""

from __future__ import annotations

from refvid.engines.motion.render import MotionEngine, MotionPlan

__all__ = ["MotionEngine", "MotionPlan"]
