"""`garrison`: entry point, global options and exit codes (0 ok, 1 error, 2 usage)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from garrison import __version__
from garrison.cli import assets, attribution, feeds, intel, notices, orgs, outbox, setup, users
from garrison.cli.runtime import CommandState, errors
from garrison.core.errors import GarrisonError
from garrison.core.settings import CONFIG_FILE_ENV

app = typer.Typer(
    name="garrison",
    help="Garrison: the coordination platform of a regional CSIRT and its member organisations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(orgs.app, name="orgs")
app.add_typer(assets.app, name="assets")
app.add_typer(users.app, name="users")
app.add_typer(intel.app, name="intel")
app.add_typer(feeds.app, name="feeds")
app.add_typer(notices.app, name="notices")
app.add_typer(outbox.app, name="outbox")
app.command("attribute")(attribution.attribute_command)
setup.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"garrison {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: Annotated[
        Path | None, typer.Option(help="Where Garrison keeps its data (GARRISON_DATA_DIR).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL; default: SQLite in the data directory.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help=f"A TOML settings file ({CONFIG_FILE_ENV}).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    if config is not None:
        os.environ[CONFIG_FILE_ENV] = str(config)
    CommandState.overrides = overrides


def run() -> None:
    """Console-script entry: typed errors become a one-line message and exit code 1.

    Usage errors exit with 2 (Typer's own handling); anything unexpected keeps its traceback.
    """
    try:
        app()
    except GarrisonError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
