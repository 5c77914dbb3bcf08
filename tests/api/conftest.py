"""Fixtures: live servers in this process (live.py) and as a child process (process.py)."""

from __future__ import annotations

from .live import serve as serve
from .process import serve_process as serve_process
