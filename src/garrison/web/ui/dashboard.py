"""The dashboard: counts and charts of what the viewer may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from garrison.orgs.queries import organisation_kind_names, registry_overview
from garrison.web.rendering import render
from garrison.web.viewer import CurrentViewer, TenantSession

router = APIRouter()


@router.get("/")
def dashboard(request: Request, viewer: CurrentViewer, session: TenantSession) -> Response:
    overview = registry_overview(session)
    names = organisation_kind_names(session, viewer.language)
    labels = [names.get(code, code) for code in overview.organisations_by_kind]
    return render(
        request, "dashboard.html", {"overview": overview, "kind_labels": labels}, viewer=viewer
    )
