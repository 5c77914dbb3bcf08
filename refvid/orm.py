"""The declarative base every table derives from, and the clocks their timestamps use.

Tables import this module, never :mod:`refvid.db`: the database module imports the tables
(to create them), so dependencies point one way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement


class Base(DeclarativeBase):
    """Declarative base shared by the billing and jobs tables."""


def utcnow() -> datetime:
    """Naive UTC now: SQLite drops tz info, so every timestamp is stored naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class db_now(FunctionElement[datetime]):
    """The database's clock as naive UTC, ``seconds`` later: one clock for every machine.

    Leases, heartbeats and submit order are written with it, so that API nodes and workers
    with skewed clocks agree on what has expired and what came first.
    """

    type = DateTime()
    inherit_cache = True
    name = "db_now"

    def __init__(self, seconds: float = 0.0) -> None:
        super().__init__(literal(float(seconds), Float()))


@compiles(db_now, "postgresql")
def _db_now_postgresql(element: db_now, compiler: Any, **kw: Any) -> str:
    # now() is the transaction's start: one instant for every row a statement writes.
    return f"(timezone('utc', now()) + make_interval(secs => {compiler.process(element.clauses, **kw)}))"


@compiles(db_now)
def _db_now_sqlite(element: db_now, compiler: Any, **kw: Any) -> str:
    # '%f' is seconds with milliseconds; three zeros make the microseconds SQLAlchemy stores.
    shift = compiler.process(element.clauses, **kw)
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', {shift} || ' seconds') || '000')"
