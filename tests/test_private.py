"""Private modes: 0700 folders and 0600 files whatever the umask, looser ones tightened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from refvid.config import Settings
from refvid.db import open_db
from refvid.private import private_dir, private_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_folders_and_files_are_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        created = private_file(folder / "f")
    finally:
        os.umask(old)
    assert _mode(folder) == 0o700 and _mode(created) == 0o600


def test_an_existing_data_directory_is_tightened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    for name in ("refvid.db", "refvid.db-wal", "refvid.db-shm"):
        (home / name).touch()
        os.chmod(home / name, 0o644)
    db = open_db(Settings(home=home))
    assert _mode(home) == 0o700
    for name in ("refvid.db", "refvid.db-wal", "refvid.db-shm"):
        assert _mode(home / name) == 0o600, name
    db.dispose()


def test_a_fresh_database_and_its_log_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = open_db(Settings(home=tmp_path / "home"))
        with db.write.begin() as session:
            session.execute(text("CREATE TABLE t (x)"))
        db.dispose()
    finally:
        os.umask(old)
    home = tmp_path / "home"
    assert _mode(home) == 0o700
    for path in home.iterdir():
        assert _mode(path) == 0o600, path
