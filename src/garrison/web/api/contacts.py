"""/api/v1/contacts: the people to reach at each organisation (incident contact point first)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from garrison.orgs.models import Contact
from garrison.web.api import crud
from garrison.web.api.pagination import Page
from garrison.web.viewer import CurrentViewer, TenantSession

router = crud.resource_router("/contacts", "contacts")
Phones = Annotated[list[Annotated[str, Field(min_length=3, max_length=40)]], Field(max_length=10)]
Language = Literal["vi", "en"]
CONFLICT = "this organisation already has a contact with this name"


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    name: str
    role: str | None
    email: str | None
    phones: list[str]
    language: str


class ContactIn(crud.Body):
    organisation_id: crud.OwnerId
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: crud.Email | None = None
    phones: Phones = Field(default_factory=list)
    language: Language = "vi"


class ContactPatch(crud.PatchBody):
    required = ("organisation_id", "name", "phones", "language")

    organisation_id: crud.OwnerId | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: crud.Email | None = None
    phones: Phones | None = None
    language: Language | None = None


@router.get("", response_model=Page[ContactOut])
def list_contacts(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    organisation_id: crud.IdFilter = None,
    search: crud.Search = None,
) -> Page[ContactOut]:
    query = crud.narrowed(
        select(Contact),
        (Contact.organisation_id, organisation_id),
        search=search,
        searched=(Contact.name, Contact.email, Contact.role),
    )
    return crud.keyset_page(session, query, Contact.id, page, ContactOut.model_validate)


@router.post("", response_model=ContactOut, status_code=201)
def create_contact(session: TenantSession, viewer: CurrentViewer, body: ContactIn) -> Contact:
    contact = Contact(**body.model_dump())
    crud.add(session, viewer, contact, CONFLICT)
    return contact


@router.patch("/{contact_id}", response_model=ContactOut)
def update_contact(
    session: TenantSession, viewer: CurrentViewer, contact_id: crud.RowId, body: ContactPatch
) -> Contact:
    contact = crud.find(session, Contact, contact_id)
    return crud.update(session, viewer, contact, body.changes(), CONFLICT)


crud.row_routes(router, Contact, ContactOut)
