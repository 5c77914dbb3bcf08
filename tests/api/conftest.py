"""Fixtures: a live server factory (stopped after each test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .live import LiveServer, make_settings


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """``serve(**settings)`` starts a server on a temp home; same home for restarts."""
    running: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(make_settings(tmp_path / "home", **overrides)).start()
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()
