"""/api/v1/organisations: the registry's organisations, within the caller's tenancy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from garrison.auth.principal import descendants
from garrison.auth.roles import Permission
from garrison.orgs.models import Organisation, OrganisationKind
from garrison.web.api import crud
from garrison.web.api.pagination import Page
from garrison.web.problems import NotFound
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("/organisations", "organisations")
CONFLICT = "an organisation with this name or short name already exists"


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    short_name: str | None
    kind_code: str
    parent_id: int | None
    notes: str | None


class OrganisationIn(crud.Body):
    name: str = Field(min_length=1, max_length=300)
    short_name: str | None = Field(default=None, min_length=1, max_length=60)
    kind_code: str = Field(min_length=1, max_length=30, examples=["department"])
    parent_id: crud.OwnerId | None = None
    notes: str | None = Field(default=None, max_length=10000)


class OrganisationPatch(crud.PatchBody):
    required = ("name", "kind_code")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    short_name: str | None = Field(default=None, min_length=1, max_length=60)
    kind_code: str | None = Field(default=None, min_length=1, max_length=30)
    parent_id: crud.OwnerId | None = None
    notes: str | None = Field(default=None, max_length=10000)


def _check_kind(session: TenantSession, kind_code: str | None) -> None:
    if kind_code is not None and session.get(OrganisationKind, kind_code) is None:
        raise crud.invalid("kind_code", f"{kind_code!r} is not an organisation kind")


def _check_parent(session: TenantSession, parent_id: int, child: Organisation | None) -> None:
    """The parent exists (and is visible), and is not the child itself or below it."""
    try:
        crud.find(session, Organisation, parent_id)
    except NotFound:
        raise crud.invalid("parent_id", f"no organisation {parent_id} to be the parent") from None
    if child is None:
        return
    tree = session.execute(select(Organisation.id, Organisation.parent_id))
    parent_of = {organisation_id: parent for organisation_id, parent in tree}
    if parent_id in descendants(parent_of, [child.id]):
        raise crud.invalid(
            "parent_id", "an organisation cannot be placed under itself or its units"
        )


@router.get("", response_model=Page[OrganisationOut])
def list_organisations(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    parent_id: crud.IdFilter = None,
    search: crud.Search = None,
) -> Page[OrganisationOut]:
    query = crud.narrowed(
        select(Organisation),
        (Organisation.kind_code, kind or None),
        (Organisation.parent_id, parent_id),
        search=search,
        searched=(Organisation.name, Organisation.short_name),
    )
    return crud.keyset_page(session, query, Organisation.id, page, OrganisationOut.model_validate)


@router.post("", response_model=OrganisationOut, status_code=201)
def create_organisation(
    session: TenantSession, viewer: CurrentViewer, body: OrganisationIn
) -> Organisation:
    viewer.principal.require(Permission.EDIT_REGISTRY, body.parent_id)
    _check_kind(session, body.kind_code)
    if body.parent_id is not None:
        _check_parent(session, body.parent_id, None)
    organisation = Organisation(**body.model_dump())
    session.add(organisation)
    crud.commit(session, CONFLICT)
    return organisation


@router.patch("/{organisation_id}", response_model=OrganisationOut)
def update_organisation(
    session: TenantSession,
    viewer: CurrentViewer,
    organisation_id: crud.RowId,
    body: OrganisationPatch,
) -> Organisation:
    organisation = crud.find(session, Organisation, organisation_id)
    changes = body.changes()
    viewer.principal.require(Permission.EDIT_REGISTRY, organisation.id)
    _check_kind(session, changes.get("kind_code"))
    if changes.get("parent_id") is not None:
        viewer.principal.require(Permission.EDIT_REGISTRY, changes["parent_id"])
        _check_parent(session, changes["parent_id"], organisation)
    return crud.update(session, viewer, organisation, changes, CONFLICT)


crud.row_routes(router, Organisation, OrganisationOut)
