"""``python -m refvid.cli``."""

from __future__ import annotations

from refvid.cli import main

main()
