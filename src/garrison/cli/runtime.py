"""What every command needs: settings, an open database, and consistent output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any, ClassVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from garrison.core.audit import json_safe
from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings

console = Console()
errors = Console(stderr=True)
PROGRESS_THRESHOLD = 2000


class CommandState:
    """Options given before the sub-command (`garrison --data-dir D orgs list`)."""

    overrides: ClassVar[dict[str, Any]] = {}

    @classmethod
    def settings(cls) -> Settings:
        return load_settings(**cls.overrides)


@contextmanager
def open_database() -> Iterator[Database]:
    """The configured database, migrated to the newest schema before first use."""
    database = Database.open(CommandState.settings())
    try:
        yield database
    finally:
        database.dispose()


def print_json(value: Any) -> None:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    elif isinstance(value, list):
        value = [asdict(v) if is_dataclass(v) and not isinstance(v, type) else v for v in value]
    sys.stdout.write(json.dumps(json_safe(value), ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


class ImportProgress:
    """A spinner while a file is read and checked, then a bar over the rows being written."""

    def __init__(self, description: str) -> None:
        self._status = console.status(description)
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> ImportProgress:
        self._status.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._status.stop()
        if self._bar is not None:
            self._bar.stop()

    def planned(self, total: int) -> None:
        self._status.stop()
        if total < PROGRESS_THRESHOLD:
            return
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self._bar.start()
        self._task = self._bar.add_task("writing", total=total)

    def advance(self, table: str, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=rows, description=f"writing {table}")
