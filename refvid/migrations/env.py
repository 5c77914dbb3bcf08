"""Alembic's environment: run on the connection :mod:`refvid.migrations` hands over."""

from __future__ import annotations

from alembic import context

from refvid.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
