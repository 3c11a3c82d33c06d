"""`garrison feeds …`: sources that are pulled from a URL on a schedule."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.cli.intel import show_run
from garrison.cli.runtime import CommandState, console, open_database, print_json, print_table
from garrison.intel.importing import configured_warninglists
from garrison.intel.pulling import due_sources, pull_source
from garrison.intel.sources import SourceSpec, add_source, list_sources, parse_interval

app = typer.Typer(
    help="Feeds: sources pulled from a URL, by hand or on a schedule.", no_args_is_help=True
)


@app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="A short unique name, e.g. 'feodo'.")],
    format_name: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="Feed format, 'auto', or 'taxii' for a TAXII 2.1 collection URL."
        ),
    ],
    url: Annotated[str | None, typer.Option(help="Where to pull it from.")] = None,
    every: Annotated[str | None, typer.Option(help="Pull schedule: 30m, 6h, 1d.")] = None,
    tlp: Annotated[
        str, typer.Option(help="Default TLP: clear, green, amber, amber+strict, red.")
    ] = "amber",
    reliability: Annotated[str, typer.Option(help="Admiralty code A-F.")] = "C",
    confidence: Annotated[int, typer.Option(min=0, max=100)] = 50,
    expiry_days: Annotated[int | None, typer.Option(help="Indicators expire after N days.")] = None,
    classification: Annotated[
        str | None, typer.Option(help="Default RSIT type, e.g. c2-server, infected-system.")
    ] = None,
    auth_header: Annotated[str | None, typer.Option(help="Header carrying an API key.")] = None,
    auth_secret: Annotated[str | None, typer.Option(help="The API key.")] = None,
) -> None:
    """Add a source."""
    spec = SourceSpec(
        name=name,
        format=format_name,
        url=url,
        pull_interval_minutes=parse_interval(every) if every else None,
        default_tlp=tlp,
        reliability=reliability,
        default_confidence=confidence,
        default_expiry_days=expiry_days,
        default_classification_type=classification,
        auth_header=auth_header,
        auth_secret=auth_secret,
    )
    with open_database() as database, database.session() as session:
        source = add_source(session, spec)
        console.print(f"source [bold]{source.name}[/] added (id {source.id})")


@app.command("list")
def list_command(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every source with its schedule and its last run."""
    with open_database() as database, database.session() as session:
        rows = [
            {
                "name": s.name,
                "format": s.format,
                "url": s.url,
                "every_minutes": s.pull_interval_minutes,
                "tlp": s.default_tlp,
                "reliability": s.reliability,
                "last_pulled_at": s.last_pulled_at,
                "last_run": s.runs[0].status if s.runs else None,
            }
            for s in list_sources(session)
        ]
    if json_output:
        print_json(rows)
        return
    print_table(
        "Intel sources",
        ["name", "format", "url", "every (min)", "TLP", "reliability", "last pulled", "last run"],
        [list(r.values()) for r in rows],
    )


@app.command("pull")
def pull_command(
    name: Annotated[str | None, typer.Argument(help="One source; default: every due one.")] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Pull one source now, or every scheduled source whose time has come."""
    settings = CommandState.settings()
    failed = False
    with open_database() as database:
        names = [name] if name else due_sources(database)
        if not names:
            console.print("no source is due")
            return
        warninglists = configured_warninglists(settings)
        for source_name in names:
            with console.status(f"pulling {source_name}…"):
                outcome = pull_source(database, settings, source_name, warninglists)
            failed |= outcome.status == "failed"
            if (
                outcome.run is not None
                and outcome.status in ("succeeded", "failed")
                and outcome.run.format
            ):
                show_run(outcome.run, json_output)
            elif json_output:
                print_json(
                    {"source": outcome.source, "status": outcome.status, "message": outcome.message}
                )
            else:
                console.print(f"{outcome.source}: {outcome.status} {outcome.message}")
    if failed:
        raise typer.Exit(1)
