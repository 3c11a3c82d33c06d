"""Organisation pages: a searchable, sortable, paged list, its downloads, and one organisation's
detail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.orgs.queries import (
    ORGANISATION_SORT_COLUMNS,
    OrganisationSummary,
    find_organisation,
    list_organisations,
    organisation_kinds_in_use,
    page_of_organisations,
    suggest_organisations,
)
from garrison.web.rendering import render
from garrison.web.table_export import ExportFormat, registry_download
from garrison.web.ui.listing import (
    Listing,
    ListQuery,
    SearchText,
    list_response,
    page_of,
    sorted_by,
)
from garrison.web.viewer import CurrentViewer, TenantSession

router = APIRouter()


class OrganisationQuery(ListQuery):
    search: SearchText = ""
    kind: Annotated[str, Field(max_length=30)] = ""
    sort: Literal["name", "short_name", "kind", "networks", "assets"] = "name"


def _matching(session: Session, query: OrganisationQuery) -> list[OrganisationSummary]:
    found = list_organisations(session, kind=query.kind or None, search=query.search or None)
    return sorted_by(found, query)


def _page(session: Session, query: OrganisationQuery) -> Listing[OrganisationSummary]:
    return page_of(
        query,
        ORGANISATION_SORT_COLUMNS,
        in_database=lambda offset, limit: page_of_organisations(
            session,
            kind=query.kind or None,
            sort=query.sort,
            descending=query.descending,
            offset=offset,
            limit=limit,
        ),
        in_memory=lambda: _matching(session, query),
    )


@router.get("/organisations")
def organisation_list(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[OrganisationQuery, Query()],
) -> Response:
    context = {
        "query": query,
        "listing": _page(session, query),
        "kinds": organisation_kinds_in_use(session),
    }
    return list_response(
        request, viewer, "organisations.html", "partials/organisation_rows.html", context
    )


@router.get("/organisations.{export_format}")
def organisation_export(
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[OrganisationQuery, Query()],
    export_format: ExportFormat,
) -> Response:
    return registry_download(
        session,
        export_format,
        table="organisations",
        language=viewer.language,
        keys=[o.name for o in _matching(session, query)],
        key_of=lambda row: row[0],
    )


@router.get("/organisations/choices")
def organisation_suggestions(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    organisation: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The <option>s of an organisation field's datalist: names matching what is typed so far
    (HTMX sends the field itself, named `organisation`, as the query)."""
    context = {"choices": suggest_organisations(session, organisation)}
    return render(request, "partials/organisation_choices.html", context, viewer=viewer)


@router.get("/organisations/{organisation_id}")
def organisation_detail(
    request: Request, viewer: CurrentViewer, session: TenantSession, organisation_id: int
) -> Response:
    organisation = find_organisation(session, str(organisation_id))
    return render(request, "organisation.html", {"organisation": organisation}, viewer=viewer)
