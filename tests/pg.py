"""A throw-away PostgreSQL database per test, on the server at 127.0.0.1:5432 (trust auth).

Tests that use it are skipped, with the reason, when no PostgreSQL answers there;
``make test`` runs them (the project's machines run one).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

SERVER = "postgresql://postgres@127.0.0.1:5432"


def _admin():  # type: ignore[no-untyped-def]
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 (start one with trust auth for user postgres): {exc}")


def _url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """The URL of a new, empty database; dropped after the test."""
    admin = _admin()
    name = f"refvid_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(name)
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


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
