"""The HTTP service: v1 (sync, hosted-compatible), v2 (async), health, metrics, docs."""

from __future__ import annotations

from refvid.api.app import create_app

__all__ = ["create_app"]
