"""Command line: ``refvid generate | plan | demo`` (render.py) and the server commands."""

from __future__ import annotations

from refvid.cli import db as db  # registers db upgrade|current
from refvid.cli import render as render  # registers commands on app
from refvid.cli import server as server  # registers serve and keys
from refvid.cli import worker as worker  # registers worker
from refvid.cli.app import app


def main() -> None:
    """Entry point of the ``refvid`` console script."""
    app()


__all__ = ["app", "main"]
