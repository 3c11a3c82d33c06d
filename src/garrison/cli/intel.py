"""`garrison intel …`: import feed documents, search indicators, export them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from garrison.auth.principal import Grant, Principal
from garrison.auth.roles import Role
from garrison.auth.tenancy import bind_principal
from garrison.cli.runtime import (
    CommandState,
    console,
    errors,
    open_database,
    print_json,
    print_table,
)
from garrison.intel.export_selection import ExportSelection, exported_indicators
from garrison.intel.exports import ExportOptions, export_named
from garrison.intel.formats import FeedDocument, registered_formats
from garrison.intel.importing import ImportRequest, configured_warninglists, import_document
from garrison.intel.models import ImportRun
from garrison.intel.queries import IndicatorFilter, search_indicators, source_names
from garrison.intel.sources import ensure_source
from garrison.intel.types import IndicatorType, Tlp
from garrison.orgs.queries import find_organisation

app = typer.Typer(
    help="Threat intelligence: indicators, their sources, imports and exports.",
    no_args_is_help=True,
)

FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="Feed format, or 'auto' to detect it.")
]


def show_run(run: ImportRun, json_output: bool) -> None:
    """The outcome of one import, as a table (or JSON) and the first row problems."""
    summary = {
        "run": run.id,
        "status": run.status,
        "file": run.file_name,
        "format": run.format,
        "rows": run.rows_read,
        "new": run.new_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "invalid": run.invalid_count,
        "excluded": run.excluded_count,
        "error": run.error,
        "problems": run.problems,
    }
    if json_output:
        print_json(summary)
        return
    print_table(
        f"Import run {run.id} of {run.file_name}: {run.status}",
        ["format", "rows", "new", "updated", "unchanged", "invalid", "warninglisted"],
        [
            [
                run.format,
                run.rows_read,
                run.new_count,
                run.updated_count,
                run.unchanged_count,
                run.invalid_count,
                run.excluded_count,
            ]
        ],
    )
    for problem in run.problems[:20]:
        where = ", ".join(
            f"{label} {problem[key]}"
            for label, key in (("sheet", "sheet"), ("row", "row"), ("column", "column"))
            if problem.get(key)
        )
        errors.print(f"[yellow]{problem['file']}[/] {where}: {problem['reason']}", highlight=False)
    if run.invalid_count > 20:
        errors.print(f"… and {run.invalid_count - 20} more problems (see the run in the UI)")
    if run.error and run.status == "failed":
        errors.print(f"[bold red]import failed, nothing was changed:[/] {run.error}")


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    source: Annotated[str, typer.Option("--source", "-s", help="Source name (created if new).")],
    format_name: FormatOption = "auto",
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Import a feed file into a source: new, updated, unchanged, invalid and warninglisted
    rows are counted; a file that fails changes nothing."""
    with open_database() as database:
        with database.session() as session:
            ensure_source(session, source, format_name)
        request = ImportRequest(source, FeedDocument.from_path(file), format_name)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as bar:
            task = bar.add_task(f"reading {file.name}", total=None)
            run = import_document(
                database,
                request,
                configured_warninglists(CommandState.settings()),
                progress=lambda rows: bar.update(task, description=f"{rows:,} rows read"),
            )
    show_run(run, json_output)
    if run.status == "failed":
        raise typer.Exit(1)


@app.command("search")
def search_command(
    value: Annotated[str, typer.Argument(help="A value, part of one, or an address.")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find indicators: exact (defanged values are refanged), networks holding an address,
    or any value containing the text."""
    with open_database() as database, database.session() as session:
        found, total = search_indicators(session, IndicatorFilter(text=value), limit=limit)
        names = source_names(session, sorted({i for ind in found for i in ind.source_ids}))
        rows: list[dict[str, Any]] = [
            {
                "type": ind.type,
                "value": ind.value,
                "first_seen": ind.first_seen,
                "last_seen": ind.last_seen,
                "tlp": ind.tlp,
                "confidence": ind.confidence,
                "malware": ind.malware,
                "sources": [names.get(i, str(i)) for i in ind.source_ids],
                "warninglists": ind.warninglists,
            }
            for ind in found
        ]
    if json_output:
        print_json({"total": total, "indicators": rows})
        return
    if not rows:
        console.print(f"no indicator matches {value!r}")
        return
    print_table(
        f"{total} indicator(s) match {value!r}",
        ["type", "value", "last seen", "TLP", "malware", "sources", "warninglists"],
        [
            [
                r["type"],
                r["value"],
                r["last_seen"].date(),
                r["tlp"],
                ", ".join(r["malware"]),
                ", ".join(r["sources"]),
                ", ".join(r["warninglists"]),
            ]
            for r in rows
        ],
    )


@app.command("formats")
def formats_command() -> None:
    """The feed formats Garrison reads."""
    print_table(
        "Feed formats",
        ["name", "description"],
        [[name, fmt.title] for name, fmt in registered_formats().items()],
    )


def _member_principal(session: Session, reference: str) -> Principal:
    """Acts as a member of the organisation, so the export passes its tenancy."""
    organisation = find_organisation(session, reference)
    return Principal(
        user_id=0,
        username=f"export-for-{organisation.id}",
        grants=(Grant(Role.MEMBER_STAFF, organisation.id, frozenset({organisation.id})),),
    )


@app.command("export")
def export_command(
    format_name: Annotated[str, typer.Option("--format", "-f", help="Export format.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    max_tlp: Annotated[str, typer.Option(help="Most restricted TLP to include.")] = "green",
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Indicator types (repeatable).")
    ] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only these sources.")] = None,
    min_confidence: Annotated[int, typer.Option(min=0, max=100)] = 0,
    include_warninglisted: Annotated[bool, typer.Option()] = False,
    include_expired: Annotated[bool, typer.Option()] = False,
    for_organisation: Annotated[
        str | None, typer.Option(help="Only what this member organisation may receive.")
    ] = None,
    zone: Annotated[str, typer.Option(help="RPZ zone name.")] = "rpz.garrison.invalid",
    set_name: Annotated[str, typer.Option(help="ipset/nftables set name.")] = "blocklist",
) -> None:
    """Write indicators as CSV, STIX 2.1, a MISP feed, firewall lists or a DNS RPZ zone."""
    export = export_named(format_name)
    try:
        selection = ExportSelection(
            max_tlp=Tlp.parse(max_tlp),
            types=frozenset(IndicatorType(t) for t in types) if types else None,
            min_confidence=min_confidence,
            include_expired=include_expired,
            include_warninglisted=include_warninglisted,
            source_names=tuple(source or ()),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    options = ExportOptions(zone=zone, set_name=set_name)
    with open_database() as database, database.session() as session:
        if for_organisation:
            bind_principal(session, _member_principal(session, for_organisation))
        with output.open("wb") as stream:
            summary = export.write(exported_indicators(session, selection), stream, options=options)
    console.print(f"wrote {summary.written} indicator(s) to {output} ({export.title})")
    for reason, count in sorted(summary.skipped.items()):
        console.print(f"  skipped {count}: {reason}")
