"""/api/v1/networks: address ranges organisations own; overlaps are allowed, the most specific
network containing an address is its owner."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select

from garrison.orgs.addresses import (
    AddressError,
    ParsedNetwork,
    address_key,
    parse_address,
    parse_network,
)
from garrison.orgs.models import Network
from garrison.web.api import crud
from garrison.web.api.pagination import Page, decode_cursor, next_cursor
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("/networks", "networks")


class IpVersion(IntEnum):
    V4 = 4
    V6 = 6


class NetworkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cidr: str
    version: int
    prefix_length: int
    organisation_id: int
    description: str | None


class NetworkCreated(NetworkOut):
    warnings: list[str] = Field(
        default=[], description="what was normalised, e.g. host bits cleared from the CIDR"
    )


class NetworkIn(crud.Body):
    cidr: str = Field(min_length=1, max_length=60, examples=["203.113.160.0/24"])
    organisation_id: crud.OwnerId
    description: str | None = Field(default=None, max_length=10000)


class NetworkPatch(crud.PatchBody):
    required = ("organisation_id",)

    organisation_id: crud.OwnerId | None = None
    description: str | None = Field(default=None, max_length=10000)


def _cidr(text: str, field: str, location: str) -> ParsedNetwork:
    try:
        return parse_network(text)
    except AddressError as exc:
        raise crud.invalid(field, str(exc), location) from None


def _containing_page(
    session: TenantSession, query: Select[Network], contains: str, page: crud.PageRequest
) -> Page[NetworkOut]:
    """Networks holding the address, most specific first; keyed on the prefix length, which
    is unique among them (one network per prefix length can hold a given address)."""
    try:
        key = address_key(parse_address(contains))
    except AddressError as exc:
        raise crud.invalid("contains", str(exc), "query") from None
    query = query.where(Network.first_key <= key, Network.last_key >= key)
    if page.cursor:
        query = query.where(Network.prefix_length < decode_cursor(page.cursor, "prefix"))
    ordered = query.order_by(Network.prefix_length.desc()).limit(page.limit)
    found = list(session.scalars(ordered))
    return Page(
        items=[NetworkOut.model_validate(n) for n in found],
        next_cursor=next_cursor([n.prefix_length for n in found], page.limit, "prefix"),
    )


@router.get("", response_model=Page[NetworkOut])
def list_networks(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    organisation_id: crud.IdFilter = None,
    version: IpVersion | None = None,
    contains: Annotated[
        str | None, Query(max_length=60, description="networks holding this IP, narrowest first")
    ] = None,
    within: Annotated[
        str | None, Query(max_length=60, description="networks inside this CIDR")
    ] = None,
    search: crud.Search = None,
) -> Page[NetworkOut]:
    query = crud.narrowed(
        select(Network),
        (Network.organisation_id, organisation_id),
        (Network.version, version),
        search=search,
        searched=(Network.cidr, Network.description),
    )
    if within:
        outer = _cidr(within, "within", "query")
        query = query.where(
            Network.first_key >= outer.first_key, Network.last_key <= outer.last_key
        )
    if contains:
        return _containing_page(session, query, contains, page)
    return crud.keyset_page(session, query, Network.id, page, NetworkOut.model_validate)


@router.post("", response_model=NetworkCreated, status_code=201)
def create_network(
    session: TenantSession, viewer: CurrentViewer, body: NetworkIn
) -> NetworkCreated:
    parsed = _cidr(body.cidr, "cidr", "body")
    network = Network(
        cidr=parsed.cidr,
        version=parsed.network.version,
        prefix_length=parsed.network.prefixlen,
        first_key=parsed.first_key,
        last_key=parsed.last_key,
        organisation_id=body.organisation_id,
        description=body.description,
    )
    crud.add(session, viewer, network, f"the network {parsed.cidr} is already registered")
    warnings = []
    if parsed.had_host_bits:
        warnings.append(f"{body.cidr!r} has host bits set; stored as {parsed.cidr}")
    return NetworkCreated.model_validate(network).model_copy(update={"warnings": warnings})


@router.patch("/{network_id}", response_model=NetworkOut)
def update_network(
    session: TenantSession, viewer: CurrentViewer, network_id: crud.RowId, body: NetworkPatch
) -> Network:
    network = crud.find(session, Network, network_id)
    return crud.update(session, viewer, network, body.changes(), "the network could not be changed")


crud.row_routes(router, Network, NetworkOut)
