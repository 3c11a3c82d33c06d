"""The asset list: search by name, host name or address, filters, sorting, pages, downloads."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.core.errors import NotFoundError
from garrison.orgs.queries import (
    ASSET_SORT_COLUMNS,
    AssetFilter,
    AssetSummary,
    OrganisationChoice,
    list_assets,
    organisation_choice,
    page_of_assets,
)
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
SECURITY_LEVELS = ("1", "2", "3", "4", "5")


class AssetQuery(ListQuery):
    search: SearchText = ""
    # The owner's id, name or short name: typed into a field that suggests names (a menu of
    # every organisation would be 10,000 options long).
    organisation: Annotated[str, Field(max_length=300)] = ""
    level: Literal["", "1", "2", "3", "4", "5", "none"] = ""
    internet: Literal["", "yes", "no"] = ""
    sort: Literal[
        "organisation",
        "name",
        "kind",
        "addresses",
        "hostnames",
        "operating_system",
        "security_level",
        "internet_facing",
    ] = "organisation"


def _matching(session: Session, query: AssetQuery) -> list[AssetSummary]:
    found = list_assets(
        session,
        organisation=query.organisation or None,
        security_level=int(query.level) if query.level in SECURITY_LEVELS else None,
        internet_facing={"yes": True, "no": False}.get(query.internet),
        search=query.search or None,
    )
    if query.level == "none":
        found = [asset for asset in found if asset.security_level is None]
    return sorted_by(found, query)


def _owner(session: Session, query: AssetQuery) -> OrganisationChoice | None:
    """The organisation the filter names; 404 for one the viewer cannot see."""
    return organisation_choice(session, query.organisation) if query.organisation else None


def _page(
    session: Session, query: AssetQuery, owner: OrganisationChoice | None
) -> Listing[AssetSummary]:
    level = query.level if query.level == "none" else int(query.level) if query.level else None
    where = AssetFilter(
        owner.id if owner else None, level, {"yes": True, "no": False}.get(query.internet)
    )
    return page_of(
        query,
        ASSET_SORT_COLUMNS,
        in_database=lambda offset, limit: page_of_assets(
            session,
            where,
            sort=query.sort,
            descending=query.descending,
            offset=offset,
            limit=limit,
        ),
        in_memory=lambda: _matching(session, query),
    )


@router.get("/assets")
def asset_list(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[AssetQuery, Query()],
) -> Response:
    context: dict[str, object] = {"query": query, "levels": SECURITY_LEVELS}
    try:
        owner = _owner(session, query)
    except NotFoundError:
        if not request.headers.get("hx-request"):
            raise
        # A refresh after a name was typed in: say so where the rows are (HTMX swaps no 404).
        context |= {"listing": Listing([], 0, 1), "unknown_owner": query.organisation}
    else:
        context |= {"listing": _page(session, query, owner), "owner": owner}
    return list_response(request, viewer, "assets.html", "partials/asset_rows.html", context)


@router.get("/assets.{export_format}")
def asset_export(
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[AssetQuery, Query()],
    export_format: ExportFormat,
) -> Response:
    return registry_download(
        session,
        export_format,
        table="assets",
        language=viewer.language,
        keys=[(a.organisation, a.name) for a in _matching(session, query)],
        key_of=lambda row: (row[0], row[1]),
    )
