"""Software on an asset: listed and added under /api/v1/assets/{asset_id}/components, read,
changed and removed at /api/v1/components/{component_id}. Validated exactly as registry
imports validate them (CPE 2.3, purl, or at least a product name)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from garrison.core.errors import RowProblem
from garrison.core.tabular import Record
from garrison.orgs.models import Asset, Component
from garrison.orgs.registry_rows import ComponentRow, parse_record
from garrison.web.api import crud
from garrison.web.api.pagination import Page
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("", "components")
FIELDS = ("cpe", "purl", "vendor", "product", "version")
LISTING = "/assets/{asset_id}/components"


class ComponentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    asset_id: int
    ref: str = Field(description="what tells it apart on its asset: CPE, else purl, else v/p/v")
    cpe: str | None
    purl: str | None
    vendor: str | None
    product: str | None
    version: str | None


class ComponentIn(crud.Body):
    cpe: str | None = Field(
        default=None, max_length=500, examples=["cpe:2.3:a:apache:http_server:2.4.58:*:*:*:*:*:*:*"]
    )
    purl: str | None = Field(default=None, max_length=500, examples=["pkg:pypi/django@4.2.11"])
    vendor: str | None = Field(default=None, max_length=200)
    product: str | None = Field(default=None, max_length=200)
    version: str | None = Field(default=None, max_length=100)


class ComponentPatch(ComponentIn, crud.PatchBody):
    pass


def _validated(values: dict[str, Any]) -> dict[str, Any]:
    """The columns of a valid component (its ref included), or a 422 naming the field."""
    text = {name: values.get(name) or "" for name in FIELDS}
    record = Record("request body", None, 1, {"organisation": "-", "asset": "-", **text}, {})
    row = parse_record("components", record)
    if isinstance(row, RowProblem):
        raise crud.invalid(row.column or "product", row.reason)
    assert isinstance(row, ComponentRow)
    return {"ref": row.ref, **{name: getattr(row, name) for name in FIELDS}}


def _conflict(values: dict[str, Any]) -> str:
    return f"this asset already has the component {values['ref']}"


@router.get(LISTING, response_model=Page[ComponentOut])
def list_components(
    session: TenantSession,
    viewer: CurrentViewer,
    asset_id: crud.RowId,
    page: crud.Paging,
    search: crud.Search = None,
) -> Page[ComponentOut]:
    asset = crud.find(session, Asset, asset_id)
    query = crud.narrowed(
        select(Component),
        (Component.asset_id, asset.id),
        search=search,
        searched=(Component.ref, Component.vendor, Component.product),
    )
    return crud.keyset_page(session, query, Component.id, page, ComponentOut.model_validate)


@router.post(LISTING, response_model=ComponentOut, status_code=201)
def create_component(
    session: TenantSession, viewer: CurrentViewer, asset_id: crud.RowId, body: ComponentIn
) -> Component:
    asset = crud.find(session, Asset, asset_id)
    values = _validated(body.model_dump())
    component = Component(asset_id=asset.id, **values)
    crud.add(session, viewer, component, _conflict(values))
    return component


@router.patch("/components/{component_id}", response_model=ComponentOut)
def update_component(
    session: TenantSession, viewer: CurrentViewer, component_id: crud.RowId, body: ComponentPatch
) -> Component:
    component = crud.find(session, Component, component_id)
    current = {name: getattr(component, name) for name in FIELDS}
    values = _validated(current | body.changes())
    return crud.update(session, viewer, component, values, _conflict(values))


crud.row_routes(router, Component, ComponentOut, under="/components")
