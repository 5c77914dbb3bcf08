"""``refvid db upgrade | current``: the schema's migrations, run once per release by the operator.

``refvid serve`` upgrades an embedded SQLite database on its own; on PostgreSQL the operator
runs ``refvid db upgrade`` (it takes an advisory lock, so two at once are safe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from refvid.cli.app import app

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(help="Database schema: upgrade it, or show its revision.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _engine() -> Engine:
    from refvid.config import get_settings
    from refvid.db import connect

    return connect(get_settings()).engine


@db_app.command("upgrade")
def upgrade() -> None:
    """Bring the schema to this version's newest revision (safe to repeat, and while serving)."""
    from refvid import migrations

    before, after = migrations.upgrade(_engine())
    if before == after:
        typer.echo(f"the schema is up to date (revision {after})")
    else:
        typer.echo(f"upgraded the schema from {before or 'nothing'} to {after}")


@db_app.command("current")
def current() -> None:
    """Print the schema's revision, and whether it is the newest this version knows."""
    from refvid import migrations

    with _engine().connect() as connection:
        revision = migrations.current(connection)
    state = "up to date" if revision == migrations.head() else f"behind {migrations.head()}"
    typer.echo(f"{revision or 'none'} ({state})")
