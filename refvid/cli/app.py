"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="refvid",
    help="Reference images + a prompt -> a multi-shot MP4.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
