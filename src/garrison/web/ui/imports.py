"""Importing the registry from an uploaded CSV or XLSX file (IMPORT_REGISTRY).

The page shows what the import did table by table and the warnings it accepted, or, when the
file is rejected, every problem by file, sheet, row and column: then nothing was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from garrison.auth.roles import Permission
from garrison.core.audit import acting_as
from garrison.core.db import Database
from garrison.core.errors import InputError, RowProblem
from garrison.orgs.registry_import import ImportReport, import_registry
from garrison.orgs.upsert import EntityCounts
from garrison.web.i18n import translations
from garrison.web.rendering import render
from garrison.web.ui.access import viewer_with
from garrison.web.uploads import (
    SPREADSHEET_UPLOADS,
    received_upload,
    refusal_messages,
    uploading_viewer,
)
from garrison.web.viewer import Viewer, app_database, app_settings

router = APIRouter()
Importer = Annotated[Viewer, viewer_with(Permission.IMPORT_REGISTRY)]
TABLE_LABELS = {
    "organisations": "Organisations",
    "contacts": "Contacts",
    "networks": "Networks",
    "domains": "Domains",
    "assets": "Assets",
    "components": "Software components",
}


@dataclass(frozen=True)
class ImportOutcome:
    """What the page reports about one uploaded file."""

    file: str
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    warnings: list[RowProblem] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(count.created or count.updated for count in self.counts.values())


def _import(database: Database, path: Path, actor: str, max_bytes: int) -> ImportReport:
    with acting_as(actor):
        return import_registry(database, path, max_bytes=max_bytes)


def _page(
    request: Request, viewer: Viewer, outcome: ImportOutcome | None, status_code: int = 200
) -> Response:
    settings = app_settings(request)
    context = {
        "outcome": outcome,
        "table_labels": TABLE_LABELS,
        "limit_mb": f"{settings.max_upload_bytes / (1024 * 1024):g}",
    }
    return render(request, "import.html", context, viewer=viewer, status_code=status_code)


@router.get("/import")
def import_form(request: Request, viewer: Importer) -> Response:
    return _page(request, viewer, None)


@router.post("/import")
async def import_upload(request: Request) -> Response:
    """Not a plain form route: the body is read here, counted while it streams in, so an
    oversized upload is refused before it is stored anywhere."""
    database = app_database(request)
    viewer = await uploading_viewer(request, Permission.IMPORT_REGISTRY)
    settings = app_settings(request)
    gettext = translations(viewer.language).gettext
    wrong_type = gettext("Only CSV (.csv) and Excel (.xlsx) files can be imported.")
    refusals = refusal_messages(gettext, settings.max_upload_bytes, wrong_type)
    async with received_upload(
        request,
        viewer,
        field="file",
        kinds=SPREADSHEET_UPLOADS,
        max_bytes=settings.max_upload_bytes,
        messages=refusals,
    ) as upload:
        shown = upload.shown_name
        try:
            report = await run_in_threadpool(
                _import, database, upload.path, viewer.principal.actor, settings.max_import_bytes
            )
        except InputError as exc:
            problems = [replace(problem, file=shown) for problem in exc.problems]
            return _page(request, viewer, ImportOutcome(shown, problems=problems), 422)
    warnings = [replace(warning, file=shown) for warning in report.warnings]
    return _page(request, viewer, ImportOutcome(shown, report.counts, warnings))
