"""The shared shape of `orgs import` and `assets import`: progress, report, warnings."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path

from garrison.cli.runtime import (
    CommandState,
    ImportProgress,
    console,
    errors,
    open_database,
    print_json,
    print_table,
)
from garrison.orgs.registry_import import ImportReport, import_registry


def _show_report(report: ImportReport) -> None:
    print_table(
        f"Imported {report.file}",
        ["table", "created", "updated", "unchanged"],
        [
            [table, count.created, count.updated, count.unchanged]
            for table, count in report.counts.items()
            if count.total
        ],
    )
    for warning in report.warnings:
        errors.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not report.changed:
        console.print("nothing changed")


def run_registry_import(path: Path, tables: Collection[str], json_output: bool) -> None:
    settings = CommandState.settings()
    with open_database() as database, ImportProgress(f"reading {path.name}…") as progress:
        report = import_registry(
            database,
            path,
            max_bytes=settings.max_import_bytes,
            tables=tables,
            progress=progress.advance,
            on_plan=progress.planned,
        )
    if json_output:
        print_json(
            {
                "file": report.file,
                "counts": {table: asdict(count) for table, count in report.counts.items()},
                "warnings": [str(warning) for warning in report.warnings],
            }
        )
    else:
        _show_report(report)
