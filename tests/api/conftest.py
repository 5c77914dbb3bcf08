"""Fixtures: the live server factory (defined in live.py so other test packages can use it)."""

from __future__ import annotations

from .live import serve as serve
