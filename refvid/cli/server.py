"""``refvid serve`` and ``refvid keys create|list|add-credits|revoke``.

The ``keys`` commands talk to the database directly, so they work while the server runs.
Billing (SQLAlchemy and the tables) is imported inside the commands: ``refvid generate``
registers these commands too and should not pay half a second of start-up for them.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import typer

from refvid.cli.app import app

if TYPE_CHECKING:
    from refvid.db import Database

keys_app = typer.Typer(help="Manage API keys and their credits.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DEV_KEY_CREDITS = Decimal(1000)


def _units(text: str) -> int:
    from refvid.billing.credits import to_units

    try:
        return to_units(Decimal(text))
    except (InvalidOperation, ValueError) as exc:
        raise typer.BadParameter(f"credits must be a number with at most 3 decimals ({exc})") from None


def _db() -> Database:
    from refvid.config import get_settings
    from refvid.db import open_db

    return open_db(get_settings())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, help="TCP port."),
    dev_key: bool = typer.Option(
        False, "--dev-key", help=f"Create and print a development key with {DEV_KEY_CREDITS} credits."
    ),
    workers: int | None = typer.Option(None, help="Render workers (default REFVID_WORKERS or 1)."),
    no_workers: bool = typer.Option(
        False, "--no-workers", help="API only: renders are left to `refvid worker` machines."
    ),
    api_processes: int | None = typer.Option(
        None, "--api-processes", min=0,
        help="API processes sharing the port (default REFVID_API_PROCESSES; 0: one per CPU, at most 8).",
    ),
) -> None:
    """Run the HTTP API (FastAPI under uvicorn, one process per CPU) with its render workers."""
    from refvid.api.serving import api_process_count, usable_cpus
    from refvid.api.serving import serve as run_server
    from refvid.billing import create_key
    from refvid.billing.credits import to_units
    from refvid.config import Settings, get_settings
    from refvid.db import open_db
    from refvid.private import UMASK

    os.umask(UMASK)  # the data directory holds secrets: nothing this server writes is for others
    settings = get_settings()
    if no_workers:
        workers = 0  # the node registers, recovers and sends webhooks; it renders nothing
    overrides = {"workers": workers, "api_processes": api_processes}
    chosen = {name: value for name, value in overrides.items() if value is not None}
    if chosen:
        settings = Settings(**{**settings.model_dump(), **chosen})
    if dev_key:
        new = create_key(open_db(settings), "dev", to_units(DEV_KEY_CREDITS))
        typer.echo(f"Development key ({DEV_KEY_CREDITS} credits), shown once:")
        typer.echo(new.key)
        typer.echo(f"Webhook signing secret: {new.webhook_secret}")
        typer.echo(
            f"Try: curl -s http://{host}:{port}/healthz   ·   docs: http://{host}:{port}/docs"
        )
    typer.echo(f"Data directory: {settings.home}")
    count = api_process_count(settings.api_processes)
    why = "chosen" if settings.api_processes else f"default: one per CPU, {usable_cpus()} usable"
    typer.echo(
        f"API processes: {count} ({why}; --api-processes to change) · render workers: {settings.workers}"
    )
    run_server(settings, host, port, count)


@keys_app.command("create")
def keys_create(
    name: str = typer.Option(..., "--name", help="Who or what the key is for."),
    credits: str = typer.Option("0", "--credits", help="Starting credits (decimal)."),
) -> None:
    """Create a key; prints it once, alone on the first line, then its webhook secret."""
    from refvid.billing import create_key
    from refvid.billing.credits import format_credits

    new = create_key(_db(), name, _units(credits))
    typer.echo(new.key)
    typer.echo(f"webhook secret: {new.webhook_secret}")
    typer.echo(f"id {new.id} · name {new.name} · {format_credits(new.balance)} credits", err=True)
    typer.echo("Store the key now: only its hash is kept.", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (id, name, prefix, credits, state); never the keys themselves."""
    from refvid.billing import list_keys
    from refvid.billing.credits import format_credits

    rows = list_keys(_db())
    if not rows:
        typer.echo("no keys yet: refvid keys create --name NAME --credits 100")
        return
    typer.echo(f"{'id':>4}  {'name':<20} {'prefix':<12} {'credits':>12}  state")
    for row in rows:
        state = "revoked" if row.revoked else "active"
        typer.echo(
            f"{row.id:>4}  {row.name:<20} {row.prefix:<12} {format_credits(row.balance):>12}  {state}"
        )


def _resolve(db: Database, ident: str) -> int:
    from refvid.billing import AmbiguousKey, find_key

    try:
        row = find_key(db, ident)
    except AmbiguousKey as exc:
        typer.echo(f"ambiguous key: {exc}; nothing was changed", err=True)
        raise typer.Exit(2) from None
    if row is None:
        typer.echo(f"no key {ident!r}: use an id, name or prefix from `refvid keys list`", err=True)
        raise typer.Exit(2)
    return row.id


@keys_app.command("add-credits")
def keys_add_credits(
    key: str = typer.Argument(..., help="Key id, name or prefix."),
    credits: str = typer.Argument(..., help="Credits to add (negative to remove)."),
) -> None:
    """Add credits to a key (safe while the server runs)."""
    from refvid.billing import add_credits
    from refvid.billing.credits import format_credits

    db = _db()
    try:
        balance = add_credits(db, _resolve(db, key), _units(credits))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"balance: {format_credits(balance)}")


@keys_app.command("revoke")
def keys_revoke(key: str = typer.Argument(..., help="Key id, name or prefix.")) -> None:
    """Revoke a key: it answers 401 from now on, and what it started stops.

    Its queued and rendering requests are cancelled and refunded, its webhooks are no
    longer sent, and a running server ends its open status streams and v1 waits.
    """
    from refvid.billing import revoke_key
    from refvid.config import get_settings
    from refvid.jobs.lifecycle import stop_revoked

    db = _db()
    if not revoke_key(db, _resolve(db, key)):
        typer.echo("already revoked", err=True)
        raise typer.Exit(1)
    cancelled = stop_revoked(db, get_settings().result_ttl)
    typer.echo(f"revoked ({len(cancelled)} unfinished request(s) cancelled and refunded)")
