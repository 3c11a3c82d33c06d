"""Indicator pages: search (a value, part of one, a defanged value, or an address inside a
stored network), filters, charts by type and TLP, downloads, and one indicator with every
sighting of it.

What a member may see (CLEAR and GREEN indicators, no sources, no raw rows) is decided by the
tenant session and by VIEW_INTEL_SOURCES, never filtered here by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from pydantic import field_validator
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.auth.roles import Permission
from garrison.intel.models import Indicator
from garrison.intel.queries import (
    IndicatorFilter,
    find_indicator,
    indicator_counts,
    search_indicators,
    source_names,
)
from garrison.intel.sources import list_sources
from garrison.intel.types import IndicatorType, Tlp
from garrison.web.api.pagination import MAX_KEY
from garrison.web.i18n import translations
from garrison.web.rendering import render
from garrison.web.table_export import ExportFormat, ExportTable, table_download
from garrison.web.ui.listing import (
    PAGE_SIZE,
    Listing,
    ListQuery,
    OptionalInt,
    SearchText,
    list_response,
    offset_of,
    shown_time,
)
from garrison.web.viewer import CurrentViewer, TenantSession, Viewer, app_settings

router = APIRouter()
RowId = Annotated[int, Path(ge=1, le=MAX_KEY)]
EXPORT_LIMIT = 100_000
"""Rows in one download at most: a spreadsheet program opens it, and the page says so."""
TYPE_LABELS: dict[str, str] = {
    IndicatorType.IPV4: "IPv4 address",
    IndicatorType.IPV6: "IPv6 address",
    IndicatorType.CIDR4: "IPv4 network",
    IndicatorType.CIDR6: "IPv6 network",
    IndicatorType.DOMAIN: "Domain",
    IndicatorType.URL: "URL",
    IndicatorType.EMAIL: "E-mail address",
    IndicatorType.MD5: "MD5 hash",
    IndicatorType.SHA1: "SHA-1 hash",
    IndicatorType.SHA256: "SHA-256 hash",
    IndicatorType.FILENAME: "File name",
    IndicatorType.PHONE: "Phone number",
    IndicatorType.ASN: "AS number",
    IndicatorType.BRANDNAME: "Brand name",
}
TLP_COLOURS = {"clear": "#ffffff", "green": "#33ff00", "amber": "#ffc000",
               "amber+strict": "#ffc000", "red": "#ff2b2b"}  # fmt: skip
"""TLP 2.0's own colours, for the chart's slices (the badges take them from app.css)."""
INDICATOR_COLUMNS = (
    "Type",
    "Value",
    "First seen",
    "Last seen",
    "TLP",
    "Confidence",
    "Malware",
    "Sources",
    "Warninglists",
)


def tlp_label(tlp: str) -> str:
    """'amber+strict' → 'TLP:AMBER+STRICT', as TLP 2.0 writes it."""
    return f"TLP:{tlp.upper()}"


class IndicatorQuery(ListQuery):
    search: SearchText = ""
    type: IndicatorType | Literal[""] = ""
    source: OptionalInt = None
    hide_warninglisted: bool = False
    sort: Literal["last_seen"] = "last_seen"
    descending: bool = True

    @field_validator("search")
    @classmethod
    def _storable(cls, text: str) -> str:
        """No stored value holds a NUL, and PostgreSQL refuses one even in a pattern."""
        if "\x00" in text:
            raise ValueError("holds a NUL character")
        return text

    @field_validator("source")
    @classmethod
    def _source_key(cls, source: int | None) -> int | None:
        if source is not None and not 1 <= source <= MAX_KEY:
            raise ValueError("is not a source id")
        return source

    def wanted(self, viewer: Viewer) -> IndicatorFilter:
        """The filter the query asks for; only people who may see sources filter by one."""
        if self.source is not None:
            viewer.principal.require(Permission.VIEW_INTEL_SOURCES)
        return IndicatorFilter(
            text=self.search,
            type=self.type or None,
            source_id=self.source,
            include_warninglisted=not self.hide_warninglisted,
        )


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator as the list and its downloads show it: local times, source names."""

    id: int
    type: str
    value: str
    first_seen: str
    last_seen: str
    tlp: str
    confidence: int
    malware: list[str]
    sources: list[str]
    warninglists: list[str]

    def cells(self, type_label: str) -> list[str]:
        return [
            type_label,
            self.value,
            self.first_seen,
            self.last_seen,
            tlp_label(self.tlp),
            str(self.confidence),
            ", ".join(self.malware),
            ", ".join(self.sources),
            ", ".join(self.warninglists),
        ]


def indicator_rows(
    session: Session, found: Iterable[Indicator], zone: ZoneInfo
) -> Iterator[IndicatorRow]:
    """Rows with their sources named (a member's session names none: sources are hidden)."""
    found = list(found)
    names = source_names(session, sorted({i for ind in found for i in ind.source_ids}))
    for ind in found:
        yield IndicatorRow(
            ind.id,
            ind.type,
            ind.value,
            shown_time(ind.first_seen, zone),
            shown_time(ind.last_seen, zone),
            ind.tlp,
            ind.confidence,
            ind.malware,
            [names[i] for i in ind.source_ids if i in names],
            ind.warninglists,
        )


def _charts(session: Session, wanted: IndicatorFilter, viewer: Viewer) -> dict[str, Any]:
    """Counts of the matching indicators by type and by TLP, as the charts' data."""
    _ = translations(viewer.language).gettext
    by_type = indicator_counts(session, wanted, Indicator.type)
    by_tlp = indicator_counts(session, wanted, Indicator.tlp)
    tlps = [tlp.value for tlp in Tlp if tlp.value in by_tlp]
    return {
        "by_type_labels": [_(TYPE_LABELS.get(kind, kind)) for kind in by_type],
        "by_type_counts": list(by_type.values()),
        "tlp_labels": [tlp_label(tlp) for tlp in tlps],
        "tlp_counts": [by_tlp[tlp] for tlp in tlps],
        "tlp_colours": [TLP_COLOURS[tlp] for tlp in tlps],
    }


@router.get("/indicators")
def indicator_list(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[IndicatorQuery, Query()],
) -> Response:
    zone = app_settings(request).zone
    wanted = query.wanted(viewer)
    found, total = search_indicators(
        session,
        wanted,
        limit=PAGE_SIZE,
        offset=offset_of(query.page),
        oldest_first=not query.descending,
    )
    may_see_sources = viewer.principal.may(Permission.VIEW_INTEL_SOURCES)
    context = {
        "query": query,
        "listing": Listing(list(indicator_rows(session, found, zone)), total, query.page),
        "types": list(TYPE_LABELS.items()),
        "type_labels": TYPE_LABELS,
        "sources": list_sources(session) if may_see_sources else [],
        "tlp_label": tlp_label,
        "zone": zone.key,
        "export_limit": EXPORT_LIMIT,
        **_charts(session, wanted, viewer),
    }
    return list_response(
        request, viewer, "intel_indicators.html", "partials/intel_indicator_rows.html", context
    )


@router.get("/indicators.{export_format}")
def indicator_export(
    request: Request,
    viewer: CurrentViewer,
    session: TenantSession,
    query: Annotated[IndicatorQuery, Query()],
    export_format: ExportFormat,
) -> Response:
    _ = translations(viewer.language).gettext
    zone = app_settings(request).zone
    found, _total = search_indicators(
        session, query.wanted(viewer), limit=EXPORT_LIMIT, oldest_first=not query.descending
    )
    header = [_(label) for label in INDICATOR_COLUMNS]
    header[2] += f" ({zone.key})"
    header[3] += f" ({zone.key})"
    rows = [
        row.cells(_(TYPE_LABELS.get(row.type, row.type)))
        for row in indicator_rows(session, found, zone)
    ]
    return table_download(ExportTable("indicators", _("Indicators"), header, rows), export_format)


@router.get("/indicators/{indicator_id}")
def indicator_page(
    request: Request, viewer: CurrentViewer, session: TenantSession, indicator_id: RowId
) -> Response:
    """404 for an indicator the viewer may not see, exactly as for a missing one."""
    indicator = find_indicator(session, indicator_id)
    zone = app_settings(request).zone
    context = {
        "indicator": indicator,
        "row": next(indicator_rows(session, [indicator], zone)),
        "type_labels": TYPE_LABELS,
        "tlp_label": tlp_label,
        "when": lambda moment: shown_time(moment, zone),
        "zone": zone.key,
        "may_see_sources": viewer.principal.may(Permission.VIEW_INTEL_SOURCES),
    }
    return render(request, "intel_indicator.html", context, viewer=viewer)
