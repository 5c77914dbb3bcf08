"""Throw-away PostgreSQL databases (per test, or per block), on the server at 127.0.0.1:5432 (trust auth).

Tests that use it are skipped, with the reason, when no PostgreSQL answers there;
``make test`` runs them (the project's machines run one).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from refvid.config import Settings
from refvid.db import Database, open_db

SERVER = "postgresql://postgres@127.0.0.1:5432"


def _admin():  # type: ignore[no-untyped-def]
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 (start one with trust auth for user postgres): {exc}")


def _url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@contextmanager
def new_database(prefix: str = "refvid_test") -> Iterator[str]:
    """A new, empty database named ``<prefix>_<random>`` for the block: its URL; dropped after."""
    admin = _admin()
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(name)
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """The URL of a new, empty database; dropped after the test."""
    with new_database() as url:
        yield url


@pytest.fixture
def pg_url(empty_pg_url: str) -> str:
    """The URL of a new database with refvid's schema (what `refvid db upgrade` makes)."""
    from sqlalchemy import create_engine

    from refvid import migrations

    engine = create_engine(empty_pg_url)
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()
    return empty_pg_url


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[Database]:
    """refvid's ``Database`` on a new database with the schema (a temp home for the rest)."""
    db = open_db(Settings(home=tmp_path, database_url=pg_url))
    yield db
    db.dispose()
