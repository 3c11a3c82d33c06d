"""Organisation pages: a searchable, sortable, paged list and one organisation's detail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from garrison.orgs.queries import find_organisation, list_organisations
from garrison.web.rendering import render
from garrison.web.viewer import CurrentViewer, TenantSession

router = APIRouter()
PAGE_SIZE = 50
SortKey = Literal["name", "short_name", "kind", "networks", "assets"]


def _sort_value(value: str | int | None) -> tuple[bool, str | int]:
    """Empty values last; text compared without case."""
    if value is None:
        return (True, "")
    return (False, value.casefold() if isinstance(value, str) else value)


@router.get("/organisations")
def organisation_list(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    search: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    sort: SortKey = "name",
    descending: bool = False,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    found = list_organisations(session, kind=kind or None, search=search or None)
    found.sort(key=lambda o: _sort_value(getattr(o, sort)), reverse=descending)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    context = {
        "organisations": shown,
        "total": len(found),
        "page": page,
        "pages": pages,
        "search": search or "",
        "kind": kind or "",
        "sort": sort,
        "descending": descending,
        "kinds": sorted({o.kind for o in list_organisations(session)}),
    }
    template = (
        "partials/organisation_rows.html"
        if request.headers.get("hx-request")
        else "organisations.html"
    )
    return render(request, template, context, viewer=viewer)


@router.get("/organisations/{organisation_id}")
def organisation_detail(
    request: Request, viewer: CurrentViewer, session: TenantSession, organisation_id: int
) -> Response:
    organisation = find_organisation(session, str(organisation_id))
    return render(request, "organisation.html", {"organisation": organisation}, viewer=viewer)
