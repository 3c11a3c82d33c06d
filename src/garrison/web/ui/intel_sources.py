"""Intel source pages (VIEW_INTEL_SOURCES): the sources with their last run, adding one
(MANAGE_INTEL), one source with its recent runs and a feed upload form, and one import run
with its counts and per-row error report.

Members never reach these pages: they lack the permission, and their tenant session would
not find a source or a run anyway.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.auth.roles import Permission
from garrison.core.errors import GarrisonError
from garrison.intel.formats import registered_formats
from garrison.intel.models import RELIABILITY_CODES, ImportRun
from garrison.intel.queries import find_run, find_source, latest_runs, recent_runs
from garrison.intel.sources import add_source, list_sources
from garrison.intel.types import Tlp
from garrison.web.api.pagination import MAX_KEY
from garrison.web.i18n import translations
from garrison.web.intel_input import SourceFields, format_choices, import_feed_upload
from garrison.web.rendering import render
from garrison.web.ui.access import viewer_with
from garrison.web.ui.indicators import tlp_label
from garrison.web.ui.listing import shown_time
from garrison.web.viewer import TenantSession, Viewer, app_settings

router = APIRouter()
SourceReader = Annotated[Viewer, viewer_with(Permission.VIEW_INTEL_SOURCES)]
IntelManager = Annotated[Viewer, viewer_with(Permission.MANAGE_INTEL)]
RowId = Annotated[int, Path(ge=1, le=MAX_KEY)]
STATUS_LABELS = {
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "not_modified": "not modified",
}
RUN_COUNTS = (
    ("new_count", "New"),
    ("updated_count", "Updated"),
    ("unchanged_count", "Unchanged"),
    ("invalid_count", "Invalid"),
    ("excluded_count", "Warninglisted"),
)
"""An import run's counters, in the order the run page shows and charts them."""
RELIABILITY_LABELS = {
    "A": "A: completely reliable",
    "B": "B: usually reliable",
    "C": "C: fairly reliable",
    "D": "D: not usually reliable",
    "E": "E: unreliable",
    "F": "F: reliability cannot be judged",
}


def shown_interval(minutes: int | None) -> str:
    """A pull schedule as it is typed: 1440 → '1d', 360 → '6h', 30 → '30m' ('' by hand)."""
    if minutes is None:
        return ""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _page_helpers(request: Request) -> dict[str, Any]:
    """What every source and run page uses to show times, schedules, markings and states."""
    zone = app_settings(request).zone
    return {
        "when": lambda moment: shown_time(moment, zone),
        "zone": zone.key,
        "interval": shown_interval,
        "tlp_label": tlp_label,
        "status_labels": STATUS_LABELS,
        "run_counts": RUN_COUNTS,
    }


def _source_list_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    *,
    error: str | None = None,
    submitted: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "sources": list_sources(session),
        "last_runs": latest_runs(session),
        "may_manage": viewer.principal.may(Permission.MANAGE_INTEL),
        "formats": registered_formats(),
        "tlps": [tlp.value for tlp in Tlp],
        "reliabilities": [(code, RELIABILITY_LABELS[code]) for code in RELIABILITY_CODES],
        "error": error,
        "submitted": submitted or {},
        **_page_helpers(request),
    }
    return render(request, "intel_sources.html", context, viewer=viewer, status_code=status_code)


@router.get("/sources")
def source_list(request: Request, viewer: SourceReader, session: TenantSession) -> Response:
    return _source_list_page(request, viewer, session)


@router.post("/sources")
def source_create(
    request: Request,
    viewer: IntelManager,
    session: TenantSession,
    fields: Annotated[SourceFields, Form()],
) -> Response:
    """Add a source; a refused one shows the form again, filled in, with the reason."""
    try:
        source = add_source(session, fields.spec())
        session.commit()
    except GarrisonError as exc:
        session.rollback()
        _ = translations(viewer.language).gettext
        return _source_list_page(
            request,
            viewer,
            session,
            error=_("The source was not added:") + f" {exc}",
            submitted=fields.model_dump(exclude={"auth_secret"}),
            status_code=422,
        )
    return RedirectResponse(f"/sources/{source.id}", status_code=303)


@router.get("/sources/{source_id}")
def source_page(
    request: Request, viewer: SourceReader, session: TenantSession, source_id: RowId
) -> Response:
    context = {
        "source": find_source(session, source_id),
        "runs": recent_runs(session, source_id),
        "may_manage": viewer.principal.may(Permission.MANAGE_INTEL),
        "formats": format_choices(),
        "limit_mb": f"{app_settings(request).max_upload_bytes / (1024 * 1024):g}",
        "reliability_labels": RELIABILITY_LABELS,
        **_page_helpers(request),
    }
    return render(request, "intel_source.html", context, viewer=viewer)


@router.post("/sources/{source_id}/import")
async def source_import(request: Request, source_id: RowId) -> Response:
    """Not a plain form route: the upload is read within the size limit (see uploads), then
    imported at once; the run page tells how it went, failed or not."""
    run = await import_feed_upload(request, source_id)
    return RedirectResponse(f"/intel-runs/{run.id}", status_code=303)


def _run_chart(run: ImportRun, viewer: Viewer) -> dict[str, Any]:
    _ = translations(viewer.language).gettext
    return {
        "count_labels": [_(label) for _field, label in RUN_COUNTS],
        "count_values": [getattr(run, field) for field, _label in RUN_COUNTS],
    }


@router.get("/intel-runs/{run_id}")
def run_page(
    request: Request, viewer: SourceReader, session: TenantSession, run_id: RowId
) -> Response:
    run = find_run(session, run_id)
    context = {"run": run, **_run_chart(run, viewer), **_page_helpers(request)}
    return render(request, "intel_run.html", context, viewer=viewer)
