"""A fresh SQLite database in a temp home."""

from __future__ import annotations

from pathlib import Path

import pytest

from refvid.config import Settings
from refvid.db import Database, open_db


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(Settings(home=tmp_path))
