"""Migrations: a new database, a data directory from before them, PostgreSQL, and the CLI.

Every path must end at the schema the models describe (Alembic's own comparison finds no
difference), with the rows an existing data directory held still there.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, select
from typer.testing import CliRunner

from refvid import migrations
from refvid.billing import balance_of
from refvid.cli import app
from refvid.config import Settings
from refvid.db import Base, open_db
from refvid.jobs.models import Job, Status

from ..pg import empty_pg_url as empty_pg_url
from ..pg import pg_url as pg_url

FIRST_RELEASE = Path(__file__).with_name("first_release.sql")
ROOT = Path(__file__).resolve().parents[2]


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _first_release_home(home: Path) -> None:
    """A data directory as the first release left it: its schema, a key, a finished job."""
    home.mkdir()
    con = sqlite3.connect(home / "refvid.db")
    con.executescript(FIRST_RELEASE.read_text())
    con.execute(
        "INSERT INTO api_keys VALUES (1, 'old', 'h', 'rv_x', 'whsec_x', 4000, '2026-11-01 10:00:00.000000', NULL)"
    )
    con.execute(
        "INSERT INTO jobs (id, key_id, status, request_json, body_hash, sync, base_url, cost, progress,"
        " attempts, worker_id, created_at, finished_at, expires_at, expired, seed)"
        " VALUES ('req_old', 1, 'COMPLETED', '{}', 'b', 0, '', 1000, 1.0, 1, 'a.0.1.9',"
        " '2026-11-01 10:00:00.000000', '2026-11-01 10:01:00.000000', '2099-01-01 00:00:00.000000', 0, 5)"
    )
    con.execute("INSERT INTO ledger VALUES (1, 1, 'req_old', 'charge', -1000, '2026-11-01 10:00:00.000000')")
    con.commit()
    con.close()


def test_a_new_database_is_at_head_with_the_models_schema(tmp_path: Path) -> None:
    db = open_db(Settings(home=tmp_path))
    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
    assert _differences(db.engine) == []


def test_a_data_directory_from_the_first_release_upgrades_in_place(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _first_release_home(home)
    db = open_db(Settings(home=home))  # what `refvid serve` does on start
    with db.engine.connect() as connection:
        assert migrations.current(connection) == migrations.head()
    assert _differences(db.engine) == []
    with db.read() as session:
        job = session.scalar(select(Job).where(Job.id == "req_old"))
    assert job is not None and job.status == Status.COMPLETED and job.seed == 5
    # Its files stay where the first release wrote them: results/<id>/, one attempt so far.
    assert job.result_key == "req_old" and job.fence == 1 and job.pool == "default"
    assert balance_of(db, 1) == 4000
    db.dispose()
    assert migrations.upgrade(open_db(Settings(home=home)).engine) == (migrations.head(),) * 2


def test_an_unknown_revision_is_refused_with_the_reason(tmp_path: Path) -> None:
    db = open_db(Settings(home=tmp_path))
    with db.write.begin() as session:
        session.execute(migrations.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrations.SchemaOutdated, match="newer version"):
        migrations.upgrade(db.engine)


def test_postgres_needs_refvid_db_upgrade_and_gets_it(
    empty_pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path, database_url=empty_pg_url)
    with pytest.raises(migrations.SchemaOutdated, match="refvid db upgrade"):
        open_db(settings)
    monkeypatch.setenv("REFVID_DATABASE_URL", empty_pg_url)
    monkeypatch.setenv("REFVID_HOME", str(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Two operators at once: the advisory lock makes one migrate and the other find it done.
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "refvid.cli", "db", "upgrade"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(2)
    ]
    outputs = [command.communicate(timeout=60)[0] for command in commands]
    assert [command.returncode for command in commands] == [0, 0], outputs
    assert sorted(out.split(" ")[0] for out in outputs) == ["the", "upgraded"], outputs
    runner = CliRunner()
    assert runner.invoke(app, ["db", "current"]).output.strip() == f"{migrations.head()} (up to date)"
    db = open_db(settings)
    assert _differences(db.engine) == []
    db.dispose()


def test_postgres_from_the_baseline_reaches_the_models_schema(empty_pg_url: str) -> None:
    engine = create_engine(empty_pg_url)
    with engine.begin() as connection:
        config = migrations._config(connection)
        migrations.command.upgrade(config, migrations.BASELINE)
    migrations.upgrade(engine)
    assert _differences(engine) == []
    engine.dispose()


@pytest.mark.slow
def test_a_first_release_result_downloads_after_the_upgrade(tmp_path: Path) -> None:
    import requests
    from sqlalchemy import update

    from ..api.live import LiveServer, make_settings

    home = tmp_path / "home"
    _first_release_home(home)
    legacy = home / "results" / "req_old"  # where the first release wrote its files
    legacy.mkdir(parents=True)
    (legacy / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42old")
    server = LiveServer(make_settings(home, workers=0)).start()
    try:
        key, _, key_id = server.key("1")
        with server.state.db.write.begin() as session:
            session.execute(update(Job).where(Job.id == "req_old").values(key_id=key_id))
        video = requests.get(f"{server.url}/v2/requests/req_old/video", headers={"x-api-key": key}, timeout=30)
        assert video.status_code == 200 and video.content.endswith(b"ftypmp42old")
    finally:
        server.stop()
