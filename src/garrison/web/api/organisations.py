"""/api/v1/organisations: the registry's organisations, within the caller's tenancy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from garrison.auth.roles import Permission
from garrison.orgs.models import Organisation, OrganisationKind
from garrison.web.api.pagination import MAX_LIMIT, Page, decode_cursor, next_cursor
from garrison.web.problems import Conflict, NotFound, UnprocessableContent
from garrison.web.viewer import CurrentViewer, TenantSession

router = APIRouter(prefix="/organisations", tags=["organisations"])


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    short_name: str | None
    kind_code: str
    parent_id: int | None
    notes: str | None


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    short_name: str | None = Field(default=None, max_length=60)
    kind_code: str = Field(min_length=1, max_length=30)
    parent_id: int | None = None
    notes: str | None = Field(default=None, max_length=10000)


class OrganisationPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    short_name: str | None = Field(default=None, max_length=60)
    kind_code: str | None = Field(default=None, min_length=1, max_length=30)
    parent_id: int | None = None
    notes: str | None = Field(default=None, max_length=10000)


def _get(session: TenantSession, organisation_id: int) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.id == organisation_id))
    if found is None:
        raise NotFound(f"no organisation {organisation_id}")
    return found


def _check_references(session: TenantSession, kind_code: str | None, parent_id: int | None) -> None:
    if kind_code is not None and session.get(OrganisationKind, kind_code) is None:
        raise UnprocessableContent(f"{kind_code!r} is not an organisation kind")
    if parent_id is not None and _get(session, parent_id) is None:
        raise UnprocessableContent(f"no organisation {parent_id} to be the parent")


def _commit(session: TenantSession) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("an organisation with this name or short name already exists") from None


@router.get("", response_model=Page[OrganisationOut])
def list_organisations(
    session: TenantSession,
    viewer: CurrentViewer,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    parent_id: int | None = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[OrganisationOut]:
    query = select(Organisation).where(Organisation.id > decode_cursor(cursor))
    if kind:
        query = query.where(Organisation.kind_code == kind)
    if parent_id is not None:
        query = query.where(Organisation.parent_id == parent_id)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(Organisation.name.ilike(pattern), Organisation.short_name.ilike(pattern))
        )
    found = list(session.scalars(query.order_by(Organisation.id).limit(limit)))
    return Page(
        items=[OrganisationOut.model_validate(o) for o in found],
        next_cursor=next_cursor([o.id for o in found], limit),
    )


@router.get("/{organisation_id}", response_model=OrganisationOut)
def get_organisation(
    session: TenantSession, viewer: CurrentViewer, organisation_id: int
) -> Organisation:
    return _get(session, organisation_id)


@router.post("", response_model=OrganisationOut, status_code=201)
def create_organisation(
    session: TenantSession, viewer: CurrentViewer, body: OrganisationIn
) -> Organisation:
    viewer.principal.require(Permission.EDIT_REGISTRY, body.parent_id)
    _check_references(session, body.kind_code, body.parent_id)
    organisation = Organisation(**body.model_dump())
    session.add(organisation)
    _commit(session)
    return organisation


@router.patch("/{organisation_id}", response_model=OrganisationOut)
def update_organisation(
    session: TenantSession, viewer: CurrentViewer, organisation_id: int, body: OrganisationPatch
) -> Organisation:
    organisation = _get(session, organisation_id)
    viewer.principal.require(Permission.EDIT_REGISTRY, organisation.id)
    changes = body.model_dump(exclude_unset=True)
    _check_references(session, changes.get("kind_code"), changes.get("parent_id"))
    if changes.get("parent_id") == organisation.id:
        raise UnprocessableContent("an organisation cannot be its own parent")
    for name, value in changes.items():
        setattr(organisation, name, value)
    _commit(session)
    return organisation


@router.delete("/{organisation_id}", status_code=204)
def delete_organisation(
    session: TenantSession, viewer: CurrentViewer, organisation_id: int
) -> Response:
    organisation = _get(session, organisation_id)
    viewer.principal.require(Permission.EDIT_REGISTRY, organisation.id)
    session.delete(organisation)
    _commit(session)
    return Response(status_code=204)
