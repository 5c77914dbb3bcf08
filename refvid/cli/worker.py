"""``refvid worker``: render processes on a machine of their own, claiming from the shared database.

Run one per GPU machine (``REFVID_DATABASE_URL`` on PostgreSQL, ``REFVID_RESULTS_URL`` on
object storage): a supervisor that keeps ``--slots`` render processes alive (one per GPU
by default), restarts one that dies, registers the machine in the database (``/readyz``
and ``/metrics`` of every API node show it), and shares the housekeeping.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import typer

from refvid.cli.app import app


@app.command()
def worker(
    slots: int | None = typer.Option(
        None, min=1, max=64, help="Render processes (default: one per visible GPU, else REFVID_WORKERS)."
    ),
    pool: str | None = typer.Option(None, help="Queue to claim from (default REFVID_POOL)."),
) -> None:
    """Run render workers only (no HTTP API): claim, render, report, until stopped."""
    from refvid.config import Settings, get_settings
    from refvid.db import open_db
    from refvid.jobs.devices import visible_gpus
    from refvid.jobs.dispatch import LocalDispatcher
    from refvid.jobs.supervisor import Supervisor
    from refvid.private import UMASK

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.umask(UMASK)
    settings = get_settings()
    gpus = visible_gpus()
    overrides: dict[str, object] = {"workers": slots or len(gpus) or max(1, settings.workers)}
    if pool is not None:
        overrides["pool"] = pool
    settings = Settings(**{**settings.model_dump(), **overrides})
    db = open_db(settings)
    dispatcher = LocalDispatcher(settings, db, kind="worker", devices=gpus)
    dispatcher.start()
    supervisor = Supervisor(db, settings, dispatcher)
    supervisor.start()
    typer.echo(
        f"worker {dispatcher.instance}: {settings.workers} render process(es) on pool "
        f"{settings.pool!r}" + (f", GPUs {','.join(gpus)}" if gpus else "")
    )
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
    supervisor.stopping.set()
    supervisor.join(timeout=5)
    dispatcher.stop()
    db.dispose()
    typer.echo("worker stopped; its unfinished jobs are back in the queue")
