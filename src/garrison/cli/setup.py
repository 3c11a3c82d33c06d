"""`garrison init` and `garrison demo`: a ready database, with or without the demo province."""

from __future__ import annotations

from typing import Annotated

import typer

from garrison.attribution.demo import load_demo_botnet_lists
from garrison.cli.runtime import CommandState, console, open_database, print_json, print_table
from garrison.intel.importing import configured_warninglists
from garrison.orgs.demo import DemoSummary, load_demo_province


def _show_demo(summary: DemoSummary) -> None:
    print_table(
        "Tỉnh Sơn Lâm (demo)",
        ["", "count"],
        [
            ["organisations", summary.organisations],
            *[[f"  {kind}", count] for kind, count in sorted(summary.by_kind.items())],
            ["contacts", summary.contacts],
            ["networks", summary.networks],
            ["domains", summary.domains],
            ["assets", summary.assets],
            ["components", summary.components],
        ],
    )


def init(
    demo: Annotated[bool, typer.Option(help="Also load the fictional demo province.")] = False,
) -> None:
    """Create the data directory and database, and bring the schema up to date."""
    settings = CommandState.settings()
    with open_database() as database:
        console.print(f"database ready: {database.engine.url.render_as_string()}")
        console.print(f"data directory: {settings.data_dir}")
        if demo:
            with database.session() as session:
                _show_demo(load_demo_province(session))


def demo(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Load the fictional province (about 40 organisations, 300 assets) and print a summary."""
    settings = CommandState.settings()
    with open_database() as database:
        with database.session() as session:
            summary = load_demo_province(session)
        runs = load_demo_botnet_lists(
            database, settings.data_dir / "demo", configured_warninglists(settings)
        )
    if json_output:
        print_json(summary)
    else:
        _show_demo(summary)
        for run in runs:
            console.print(f"demo botnet list {run.file_name}: {run.new_count} new indicators")
        console.print(
            "Next: [bold]garrison orgs list[/], [bold]garrison assets list --internet-facing[/],"
            " [bold]garrison attribute --source 'NCSC - danh sách IP botnet hằng tháng'[/]"
        )


def register(app: typer.Typer) -> None:
    from garrison.cli.serve import serve

    app.command()(init)
    app.command()(demo)
    app.command()(serve)
