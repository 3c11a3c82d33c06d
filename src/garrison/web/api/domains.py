"""/api/v1/domains: registered domains; a domain's subdomains belong to the same organisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from garrison.orgs.models import Domain
from garrison.orgs.registry_rows import normalise_domain
from garrison.web.api import crud
from garrison.web.api.pagination import Page
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("/domains", "domains")
DOMAIN_MAX = 253


class DomainOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    organisation_id: int


class DomainIn(crud.Body):
    name: str = Field(min_length=1, max_length=DOMAIN_MAX, examples=["syt.sonlam.gov.vn"])
    organisation_id: crud.OwnerId


class DomainPatch(crud.PatchBody):
    required = ("name", "organisation_id")

    name: str | None = Field(default=None, min_length=1, max_length=DOMAIN_MAX)
    organisation_id: crud.OwnerId | None = None


def domain_name(text: str, field: str, location: str = "body") -> str:
    """The stored (punycode, lower-case) form of a domain or host name, or a 422."""
    try:
        name = normalise_domain(text)
    except ValueError as exc:
        raise crud.invalid(field, str(exc), location) from None
    if len(name) > DOMAIN_MAX:
        raise crud.invalid(field, f"{text!r} is longer than {DOMAIN_MAX} characters in DNS form")
    return name


def _parents(host: str) -> list[str]:
    """www.syt.sonlam.gov.vn → itself, syt.sonlam.gov.vn, sonlam.gov.vn, gov.vn."""
    labels = host.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)]


@router.get("", response_model=Page[DomainOut])
def list_domains(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    organisation_id: crud.IdFilter = None,
    host: Annotated[
        str | None,
        Query(max_length=DOMAIN_MAX, description="the registered domain(s) this host belongs to"),
    ] = None,
    search: crud.Search = None,
) -> Page[DomainOut]:
    query = crud.narrowed(
        select(Domain),
        (Domain.organisation_id, organisation_id),
        search=search,
        searched=(Domain.name,),
    )
    if host:
        query = query.where(Domain.name.in_(_parents(domain_name(host, "host", "query"))))
    return crud.keyset_page(session, query, Domain.id, page, DomainOut.model_validate)


@router.post("", response_model=DomainOut, status_code=201)
def create_domain(session: TenantSession, viewer: CurrentViewer, body: DomainIn) -> Domain:
    name = domain_name(body.name, "name")
    domain = Domain(name=name, organisation_id=body.organisation_id)
    crud.add(session, viewer, domain, f"the domain {name} is already registered")
    return domain


@router.patch("/{domain_id}", response_model=DomainOut)
def update_domain(
    session: TenantSession, viewer: CurrentViewer, domain_id: crud.RowId, body: DomainPatch
) -> Domain:
    domain = crud.find(session, Domain, domain_id)
    changes = body.changes()
    if "name" in changes:
        changes["name"] = domain_name(changes["name"], "name")
    conflict = f"the domain {changes.get('name', domain.name)} is already registered"
    return crud.update(session, viewer, domain, changes, conflict)


crud.row_routes(router, Domain, DomainOut)
