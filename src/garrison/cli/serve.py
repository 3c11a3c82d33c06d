"""`garrison serve`: the web platform on uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from sqlalchemy import func, select

from garrison.attribution.demo import load_demo_botnet_lists
from garrison.auth.demo_accounts import DEMO_PASSWORD, create_demo_accounts
from garrison.cli.runtime import CommandState, console
from garrison.core.db import Database
from garrison.core.scheduler import Scheduler
from garrison.core.settings import Settings
from garrison.intel.importing import configured_warninglists
from garrison.intel.pulling import pull_due_sources
from garrison.notify.delivery import deliver_due
from garrison.orgs.demo import load_demo_province
from garrison.orgs.models import Organisation


def _load_demo_if_empty(database: Database, settings: Settings) -> None:
    with database.session() as session:
        empty = not session.scalar(select(func.count()).select_from(Organisation))
        if empty:
            console.print("empty database: loading the demo province")
            load_demo_province(session)
        accounts = create_demo_accounts(session)
    if empty:
        folder = settings.data_dir / "demo"
        load_demo_botnet_lists(database, folder, configured_warninglists(settings))
    for account in accounts:
        console.print(
            f"  demo account [bold]{account.username}[/] / {DEMO_PASSWORD} ({account.role.value})"
        )


def _scheduler(database: Database, settings: Settings) -> Scheduler:
    """The server's periodic jobs: scheduled feed pulls (each logged as an import run) and
    outbox delivery."""

    def pull_feeds() -> None:
        for outcome in pull_due_sources(database, settings):
            console.log(f"feed {outcome.source}: {outcome.status} {outcome.message}")

    def deliver_messages() -> None:
        report = deliver_due(database, settings)
        if report.outcomes:
            console.log(
                f"outbox: sent {report.sent}, to retry {report.retrying}, failed {report.failed}"
            )

    scheduler = Scheduler()
    scheduler.add("feeds", 60, pull_feeds)
    scheduler.add("outbox", 30, deliver_messages)
    return scheduler


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the demo province into an empty database.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes answering requests side by side (about one per core).",
        ),
    ] = 1,
) -> None:
    """Run the web platform (pages at /, API at /api/v1, its documentation at /api/docs)."""
    import uvicorn

    from garrison.web.app import create_app

    settings = CommandState.settings()
    database = Database.open(settings)
    if demo:
        _load_demo_if_empty(database, settings)
    console.print(f"Garrison is at [bold]http://{host}:{port}/[/] (API docs: /api/docs)")
    scheduler = _scheduler(database, settings)  # in this process only, whatever the workers
    scheduler.start()
    try:
        if workers == 1:
            uvicorn.run(create_app(database, settings), host=host, port=port, log_level="info")
            return
        database.dispose()
        for name, value in CommandState.overrides.items():  # what the workers' settings read
            os.environ[f"GARRISON_{name.upper()}"] = str(value)
        uvicorn.run(
            "garrison.web.app:app_from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
        )
    finally:
        scheduler.stop()
