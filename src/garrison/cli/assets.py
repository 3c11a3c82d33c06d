"""`garrison assets`: import and list assets and their software components."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.importing import run_registry_import
from garrison.cli.runtime import open_database, print_json, print_table
from garrison.orgs.queries import list_assets

app = typer.Typer(help="Assets (hosts and systems) and their software.", no_args_is_help=True)


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV or XLSX with assets and/or components.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Import assets and components of organisations already in the registry."""
    run_registry_import(path, ("assets", "components"), json_output)


@app.command("list")
def list_(
    organisation: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (name or short name).")
    ] = None,
    level: Annotated[
        int | None, typer.Option(min=1, max=5, help="Only this security level (1–5).")
    ] = None,
    internet_facing: Annotated[
        bool | None, typer.Option("--internet-facing/--internal", help="Exposure filter.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List assets with their addresses, operating system and security level."""
    with open_database() as database, database.session() as session:
        found = list_assets(
            session,
            organisation=organisation,
            security_level=level,
            internet_facing=internet_facing,
        )
    if json_output:
        print_json(found)
        return
    print_table(
        f"{len(found)} asset(s)",
        ["id", "organisation", "name", "kind", "addresses", "OS", "level", "internet"],
        [
            [
                a.id,
                a.organisation,
                a.name,
                a.kind,
                ", ".join(a.addresses),
                a.operating_system,
                a.security_level,
                "yes" if a.internet_facing else "",
            ]
            for a in found
        ],
    )
