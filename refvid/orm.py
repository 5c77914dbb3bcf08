"""The declarative base every table derives from, and the clock their timestamps use.

Tables import this module, never :mod:`refvid.db`: the database module imports the tables
(to create them), so dependencies point one way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by the billing and jobs tables."""


def utcnow() -> datetime:
    """Naive UTC now: SQLite drops tz info, so every timestamp is stored naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)
