"""/api/v1/assets: hosts and information systems, their IP addresses, host names and security
level (1–5, Decree 85/2016). A page of assets costs two queries: the assets, their addresses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from garrison.auth.roles import Permission
from garrison.core.audit import AuditRecord, record_audit_events
from garrison.orgs.addresses import AddressError, address_key, parse_address
from garrison.orgs.models import Asset, AssetAddress
from garrison.web.api import crud
from garrison.web.api.domains import domain_name
from garrison.web.api.pagination import Page
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("/assets", "assets")
CONFLICT = "this organisation already has an asset with this name"

Level = Annotated[int, Field(ge=1, le=5, description="security level per Decree 85/2016")]
Addresses = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    Field(max_length=256, examples=[["203.113.160.10", "2401:d800::10"]]),
]
Hostnames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=253)]], Field(max_length=64)
]


class AssetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    name: str
    kind: str | None
    addresses: list[str]
    hostnames: list[str]
    operating_system: str | None
    security_level: int | None
    level_approved_on: date | None
    internet_facing: bool
    notes: str | None

    @field_validator("addresses", mode="before")
    @classmethod
    def _address_text(cls, value: Any) -> Any:
        return [item.address if isinstance(item, AssetAddress) else item for item in value]


class AssetIn(crud.Body):
    organisation_id: crud.OwnerId
    name: str = Field(min_length=1, max_length=300)
    kind: str | None = Field(default=None, max_length=60)
    addresses: Addresses = Field(default_factory=list)
    hostnames: Hostnames = Field(default_factory=list)
    operating_system: str | None = Field(default=None, max_length=200)
    security_level: Level | None = None
    level_approved_on: date | None = None
    internet_facing: bool = False
    notes: str | None = Field(default=None, max_length=10000)


class AssetPatch(crud.PatchBody):
    required = ("organisation_id", "name", "addresses", "hostnames", "internet_facing")

    organisation_id: crud.OwnerId | None = None
    name: str | None = Field(default=None, min_length=1, max_length=300)
    kind: str | None = Field(default=None, max_length=60)
    addresses: Addresses | None = None
    hostnames: Hostnames | None = None
    operating_system: str | None = Field(default=None, max_length=200)
    security_level: Level | None = None
    level_approved_on: date | None = None
    internet_facing: bool | None = None
    notes: str | None = Field(default=None, max_length=10000)


def _addresses(texts: list[str]) -> dict[str, str]:
    """Canonical address → range key, without repeats, in key order; 422 naming a bad one."""
    found: dict[str, str] = {}
    for index, text in enumerate(texts):
        try:
            address = parse_address(text)
        except AddressError as exc:
            raise crud.invalid("addresses", f"item {index}: {exc}") from None
        found[str(address)] = address_key(address)
    return dict(sorted(found.items(), key=lambda item: item[1]))


def _hostnames(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(domain_name(text, "hostnames") for text in texts))


def _check_level(asset: Asset) -> None:
    if asset.level_approved_on is not None and asset.security_level is None:
        raise crud.invalid("level_approved_on", "an approval date needs a security level")


def _set_addresses(session: Session, asset: Asset, wanted: dict[str, str]) -> None:
    """Replace the asset's addresses as a set, keeping the rows that stay, and audit it."""
    current = {row.address: row for row in asset.addresses}
    before = list(current)
    asset.addresses = [
        current.get(address) or AssetAddress(address=address, key=key)
        for address, key in wanted.items()
    ]
    session.flush()
    if before != list(wanted):
        after = {"addresses": list(wanted)}
        audit = AuditRecord(
            "update", "assets", str(asset.id), asset.name, {"addresses": before}, after
        )
        record_audit_events(session, [audit])


def _addresses_of(session: Session, assets: list[Asset]) -> dict[int, list[str]]:
    """Every address of a page of assets, as text, in one query. (A relationship loader would
    work too, but it builds an object per address and repeats the tenancy criteria, which
    misleads PostgreSQL's planner.)"""
    found: dict[int, list[str]] = {asset.id: [] for asset in assets}
    query = select(AssetAddress.asset_id, AssetAddress.address)
    for asset_id, address in session.execute(
        query.where(AssetAddress.asset_id.in_(found)).order_by(AssetAddress.key)
    ):
        found[asset_id].append(address)
    return found


COLUMNS = tuple(name for name in AssetOut.model_fields if name != "addresses")


def _listed(asset: Asset, addresses: list[str]) -> AssetOut:
    """An asset of a list, its addresses given (reading `asset.addresses` would load them)."""
    return AssetOut.model_validate(
        {**{name: getattr(asset, name) for name in COLUMNS}, "addresses": addresses}
    )


@router.get("", response_model=Page[AssetOut])
def list_assets(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    organisation_id: crud.IdFilter = None,
    security_level: Annotated[int | None, Query(ge=1, le=5)] = None,
    internet_facing: bool | None = None,
    address: Annotated[str | None, Query(max_length=64, description="assets with this IP")] = None,
    search: Annotated[
        str | None, Query(max_length=200, description="text in the name or a host name")
    ] = None,
) -> Page[AssetOut]:
    query = crud.narrowed(
        select(Asset),
        (Asset.organisation_id, organisation_id),
        (Asset.security_level, security_level),
        (Asset.internet_facing, internet_facing),
        search=search,
        searched=(Asset.name, cast(Asset.hostnames, String)),
    )
    if address:
        try:
            key = address_key(parse_address(address))
        except AddressError as exc:
            raise crud.invalid("address", str(exc), "query") from None
        holders = select(AssetAddress.asset_id).where(AssetAddress.key == key)
        query = query.where(Asset.id.in_(holders))
    addresses: dict[int, list[str]] = {}
    return crud.keyset_page(
        session,
        query,
        Asset.id,
        page,
        lambda asset: _listed(asset, addresses[asset.id]),
        lambda assets: addresses.update(_addresses_of(session, assets)),
    )


@router.post("", response_model=AssetOut, status_code=201)
def create_asset(session: TenantSession, viewer: CurrentViewer, body: AssetIn) -> Asset:
    asset = Asset(**body.model_dump(exclude={"addresses", "hostnames"}))
    asset.hostnames = _hostnames(body.hostnames)
    _check_level(asset)
    wanted = _addresses(body.addresses)
    crud.check_owner(session, viewer, Permission.EDIT_ASSETS, body.organisation_id)
    session.add(asset)
    with crud.conflicts_refused(session, CONFLICT):
        _set_addresses(session, asset, wanted)
        session.commit()
    return asset


@router.patch("/{asset_id}", response_model=AssetOut)
def update_asset(
    session: TenantSession, viewer: CurrentViewer, asset_id: crud.RowId, body: AssetPatch
) -> Asset:
    asset = crud.find(session, Asset, asset_id)
    changes = body.changes()
    wanted = _addresses(changes.pop("addresses")) if "addresses" in changes else None
    if "hostnames" in changes:
        changes["hostnames"] = _hostnames(changes["hostnames"])
    crud.change(session, viewer, asset, changes)
    _check_level(asset)
    with crud.conflicts_refused(session, CONFLICT):
        if wanted is not None:
            _set_addresses(session, asset, wanted)
        session.commit()
    return asset


crud.row_routes(router, Asset, AssetOut)
