"""`garrison orgs`: import, export, list and show the organisation registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from garrison.cli.importing import run_registry_import
from garrison.cli.runtime import console, open_database, print_json, print_table
from garrison.orgs.models import Organisation
from garrison.orgs.queries import find_organisation, list_organisations
from garrison.orgs.registry_export import export_registry
from garrison.orgs.registry_import import TABLE_ORDER

app = typer.Typer(
    help="Organisations, their contacts, networks, domains and assets.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV or XLSX file (one or several sheets).")],
    json_output: JsonOption = False,
) -> None:
    """Import organisations, contacts, networks, domains, assets and components.

    All rows or none: any invalid row rejects the file with every problem listed.
    """
    run_registry_import(path, TABLE_ORDER, json_output)


@app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Target .xlsx (all tables) or .csv (one table).")],
    table: Annotated[
        list[str] | None, typer.Option(help=f"Table(s) to export: {', '.join(TABLE_ORDER)}.")
    ] = None,
    language: Annotated[str, typer.Option(help="Header language: vi or en.")] = "vi",
) -> None:
    """Export the registry in the shape `orgs import` reads back unchanged."""
    with open_database() as database, database.session() as session:
        written = export_registry(session, path, tables=table, language=language)
    for name, count in written.items():
        console.print(f"{name}: {count} rows")
    console.print(f"written to {path}")


@app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="Only this kind (e.g. district).")] = None,
    search: Annotated[str | None, typer.Option(help="Text in the name or short name.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List organisations with their kind, parent and counts."""
    with open_database() as database, database.session() as session:
        found = list_organisations(session, kind=kind, search=search)
    if json_output:
        print_json(found)
        return
    print_table(
        f"{len(found)} organisation(s)",
        ["id", "short name", "name", "kind", "parent", "networks", "assets"],
        [[o.id, o.short_name, o.name, o.kind, o.parent, o.networks, o.assets] for o in found],
    )


def _organisation_json(org: Organisation) -> dict[str, object]:
    return {
        "id": org.id,
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind_code,
        "parent": org.parent.name if org.parent else None,
        "notes": org.notes,
        "contacts": [
            {
                "name": c.name,
                "role": c.role,
                "email": c.email,
                "phones": c.phones,
                "language": c.language,
            }
            for c in org.contacts
        ],
        "networks": [{"cidr": n.cidr, "description": n.description} for n in org.networks],
        "domains": [d.name for d in org.domains],
        "assets": [
            {
                "name": a.name,
                "kind": a.kind,
                "addresses": [x.address for x in a.addresses],
                "security_level": a.security_level,
                "internet_facing": a.internet_facing,
                "components": [c.ref for c in a.components],
            }
            for a in org.assets
        ],
    }


@app.command("show")
def show(
    organisation: Annotated[str, typer.Argument(help="Name, short name or id.")],
    json_output: JsonOption = False,
) -> None:
    """Show one organisation: contacts, networks, domains and assets."""
    with open_database() as database, database.session() as session:
        org = find_organisation(session, organisation)
        data = _organisation_json(org)
    if json_output:
        print_json(data)
        return
    parent = f", under {data['parent']}" if data["parent"] else ""
    console.print(f"[bold]{org.name}[/] ({org.short_name or '—'}), {org.kind_code}{parent}")
    print_table(
        "Contacts",
        ["name", "role", "e-mail", "phones"],
        [[c.name, c.role, c.email, ", ".join(c.phones)] for c in org.contacts],
    )
    print_table(
        "Networks", ["cidr", "description"], [[n.cidr, n.description] for n in org.networks]
    )
    print_table("Domains", ["domain"], [[d.name] for d in org.domains])
    print_table(
        "Assets",
        ["name", "kind", "addresses", "level", "internet"],
        [
            [
                a.name,
                a.kind,
                ", ".join(x.address for x in a.addresses),
                a.security_level,
                "yes" if a.internet_facing else "",
            ]
            for a in org.assets
        ],
    )
