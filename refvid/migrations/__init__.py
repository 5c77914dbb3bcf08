"""Schema migrations with Alembic: ``refvid db upgrade``, and the check each process makes at start.

Three starting points end at the newest revision: an empty database (the tables are created
as the models say and stamped, which is what the migrations would produce, only faster), a
data directory from before migrations (its tables are what revision 0001 creates: it is
stamped 0001, then upgraded), and a database at any older revision. Upgrades take a lock —
SQLite's write lock (``BEGIN IMMEDIATE``), PostgreSQL's advisory lock — so processes that
start together migrate once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

BASELINE = "0001"
"""The schema ``create_all`` made before migrations existed."""

_ADVISORY_LOCK = 0x72656676  # "refv": one PostgreSQL advisory lock for schema changes
_HERE = Path(__file__).resolve().parent


class SchemaOutdated(RuntimeError):
    """The database is not at the revision this code needs; the message says what to run."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision this code knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current(connection: Connection) -> str | None:
    """The database's revision; None for an empty database or one from before migrations."""
    return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection) -> None:
    # SQLite: the writer engine opens every transaction with BEGIN IMMEDIATE, which is the lock.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to :func:`head`; returns (revision before, revision after)."""
    with engine.connect() as connection:
        if current(connection) == head():  # the common case: no lock taken
            return head(), head()
    with engine.begin() as connection:
        _lock(connection)
        before = current(connection)
        if before == head():
            return before, before
        config = _config(connection)
        if before is None:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            if not tables:
                from refvid.db import Base  # every table registered

                Base.metadata.create_all(connection)
                command.stamp(config, "head")
                return None, head()
            command.stamp(config, BASELINE)
        elif not _known(before):
            raise SchemaOutdated(
                f"the database is at revision {before}, which this refvid does not know: it was "
                "migrated by a newer version; run that version (or upgrade refvid)"
            )
        command.upgrade(config, "head")
    return before, head()


def check(engine: Engine) -> None:
    """Raise :class:`SchemaOutdated` unless the schema is at :func:`head`."""
    with engine.connect() as connection:
        revision = current(connection)
    if revision != head():
        shown = revision or "none (empty, or from before migrations)"
        raise SchemaOutdated(
            f"the database schema is at revision {shown} and this refvid needs {head()}: "
            "run `refvid db upgrade` (with the same REFVID_DATABASE_URL) first"
        )
