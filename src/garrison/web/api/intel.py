"""/api/v1/indicators and /api/v1/intel: indicators with their sightings; sources, their import
runs and feed uploads.

Indicators are for everyone who may read (a member's session sees only CLEAR and GREEN ones,
names no source and gets no raw rows); sources and runs need VIEW_INTEL_SOURCES, adding a
source or importing a file MANAGE_INTEL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from garrison.auth.roles import Permission
from garrison.core.errors import GarrisonError
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.queries import (
    IndicatorFilter,
    find_indicator,
    find_run,
    find_source,
    indicator_query,
    source_names,
)
from garrison.intel.sources import add_source
from garrison.intel.types import IndicatorType
from garrison.web.api import crud
from garrison.web.api.pagination import MAX_KEY, Page
from garrison.web.intel_input import SourceFields, import_feed_upload
from garrison.web.problems import UnprocessableContent
from garrison.web.viewer import CurrentViewer, TenantSession, Viewer


def require_source_reader(viewer: CurrentViewer) -> None:
    viewer.principal.require(Permission.VIEW_INTEL_SOURCES)


indicators = crud.resource_router("/indicators", "indicators")
sources = crud.resource_router(
    "/intel", "intel sources", dependencies=[Depends(require_source_reader)]
)
uploads = crud.resource_router("/intel", "intel sources")
"""Without the router's viewer dependency, which would read a browser's form (CSRF) before the
upload's size limit applies: the upload identifies its viewer itself."""
SOURCE_FIELDS = {
    "name": "name",
    "url": "url",
    "schedule": "schedule",
    "tlp": "default_tlp",
    "reliability": "reliability",
    "confidence": "default_confidence",
    "expiry": "default_expiry_days",
    "auth": "auth_header",
}
"""SourceError messages start with the field they are about, in the spec's short words."""
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
"""The upload is read by hand (within the size limit), so its body is described here."""


class SightingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str | None
    observed_at: datetime | None
    last_seen: datetime | None
    count: int
    malware_name: str | None
    classification_taxonomy: str | None
    classification_type: str | None
    classification_identifier: str | None
    source_asn: int | None
    source_as_name: str | None
    region: str | None
    destination_ip: str | None
    destination_port: int | None
    destination_fqdn: str | None
    line: int | None
    raw: str | None


class IndicatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uuid: str
    type: IndicatorType
    value: str
    first_seen: datetime
    last_seen: datetime
    tlp: str
    confidence: int
    tags: list[str]
    malware: list[str]
    classification_type: str | None
    expires_at: datetime | None
    warninglists: list[str]
    sources: list[str]


class IndicatorDetailOut(IndicatorOut):
    sightings: list[SightingOut]


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    format: str
    url: str | None
    pull_interval_minutes: int | None
    default_tlp: str
    reliability: str
    default_confidence: int
    default_expiry_days: int | None
    default_classification_type: str | None
    enabled: bool
    auth_header: str | None
    description: str | None
    last_pulled_at: datetime | None


class SourceIn(crud.Body, SourceFields):
    pass


class ProblemOut(BaseModel):
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    reason: str


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: int
    status: str
    file_name: str | None
    file_sha256: str | None
    format: str | None
    started_at: datetime
    finished_at: datetime | None
    started_by: str | None
    rows_read: int
    new_count: int
    updated_count: int
    unchanged_count: int
    invalid_count: int
    excluded_count: int
    error: str | None
    problems: list[ProblemOut]


def _indicator_out(indicator: Indicator, names: dict[int, str]) -> dict[str, Any]:
    fields = IndicatorOut.model_fields.keys() - {"sources"}
    return {
        **{name: getattr(indicator, name) for name in fields},
        "sources": [names[i] for i in indicator.source_ids if i in names],
    }


def _sighting_out(sighting: Sighting, viewer: Viewer) -> SightingOut:
    """A member learns what was seen, not which source said so nor its raw row."""
    shown = viewer.principal.may(Permission.VIEW_INTEL_SOURCES)
    fields = SightingOut.model_fields.keys() - {"source", "raw"}
    return SightingOut(
        **{name: getattr(sighting, name) for name in fields},
        source=sighting.source.name if shown and sighting.source else None,
        raw=sighting.raw if shown else None,
    )


@indicators.get("", response_model=Page[IndicatorOut])
def list_indicators(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="a value, part of one, a defanged value, or an address in a network",
        ),
    ] = None,
    type: IndicatorType | None = None,
    source: Annotated[int | None, Query(ge=1, le=MAX_KEY, description="a source's id")] = None,
    include_warninglisted: bool = True,
) -> Page[IndicatorOut]:
    if source is not None:
        viewer.principal.require(Permission.VIEW_INTEL_SOURCES)
    wanted = IndicatorFilter(q or "", type, source, include_warninglisted)
    names: dict[int, str] = {}

    def name_sources(rows: list[Indicator]) -> None:
        names.update(source_names(session, sorted({i for row in rows for i in row.source_ids})))

    return crud.keyset_page(
        session,
        indicator_query(wanted),
        Indicator.id,
        page,
        lambda row: IndicatorOut.model_validate(_indicator_out(row, names)),
        prepare=name_sources,
    )


@indicators.get("/{indicator_id}", response_model=IndicatorDetailOut)
def get_indicator(
    session: TenantSession,
    viewer: CurrentViewer,
    indicator_id: Annotated[int, Path(ge=1, le=MAX_KEY)],
) -> IndicatorDetailOut:
    indicator = find_indicator(session, indicator_id)
    names = source_names(session, indicator.source_ids)
    return IndicatorDetailOut(
        **_indicator_out(indicator, names),
        sightings=[_sighting_out(sighting, viewer) for sighting in indicator.sightings],
    )


@sources.get("/sources", response_model=Page[SourceOut])
def list_intel_sources(
    session: TenantSession, viewer: CurrentViewer, page: crud.Paging
) -> Page[SourceOut]:
    return crud.keyset_page(session, select(Source), Source.id, page, SourceOut.model_validate)


def _refused_source(error: GarrisonError) -> UnprocessableContent:
    """A 422 naming the field the error is about (the body as a whole when it names none)."""
    message = str(error)
    first = message.split(" ", 1)[0].rstrip(":")
    field = SOURCE_FIELDS.get(first, "format" if "format" in message else "body")
    return UnprocessableContent(message, errors=[{"location": ["body", field], "message": message}])


@sources.post("/sources", response_model=SourceOut, status_code=201)
def create_intel_source(session: TenantSession, viewer: CurrentViewer, body: SourceIn) -> Source:
    viewer.principal.require(Permission.MANAGE_INTEL)
    with crud.conflicts_refused(session, f"a source named {body.name!r} already exists"):
        try:
            source = add_source(session, body.spec())
        except GarrisonError as exc:
            raise _refused_source(exc) from None
        session.commit()
    return source


@sources.get("/sources/{source_id}/runs", response_model=Page[RunOut])
def list_source_runs(
    session: TenantSession, viewer: CurrentViewer, source_id: crud.RowId, page: crud.Paging
) -> Page[RunOut]:
    find_source(session, source_id)
    query = select(ImportRun).where(ImportRun.source_id == source_id)
    return crud.keyset_page(session, query, ImportRun.id, page, RunOut.model_validate)


@uploads.post(
    "/sources/{source_id}/imports",
    response_model=RunOut,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
)
async def import_into_source(
    request: Request,
    source_id: crud.RowId,
    format: Annotated[
        str, Query(max_length=40, description="a feed format's name, or 'auto' to detect it")
    ] = "auto",
) -> ImportRun:
    """Import one uploaded feed file (form field `file`) at once; the run says what it did,
    or why it failed (a failed import changes no indicator)."""
    return await import_feed_upload(request, source_id, format, for_api=True)


@sources.get("/runs/{run_id}", response_model=RunOut)
def get_run(session: TenantSession, viewer: CurrentViewer, run_id: crud.RowId) -> ImportRun:
    return find_run(session, run_id)
