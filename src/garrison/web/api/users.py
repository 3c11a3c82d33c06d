"""/api/v1/users: accounts and their memberships, for administrators only (manage_users).

Password hashes never leave the server; a password is set when the account is created and
reset by an administrator (the user must change it at next sign-in). Administrators cannot
deactivate themselves or change their own memberships, so that nobody locks themselves out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from garrison.auth.accounts import AccountError, create_user, reset_password
from garrison.auth.models import Membership, User
from garrison.auth.passwords import WeakPassword
from garrison.auth.roles import Permission, Role
from garrison.auth.web_sessions import close_all_sessions_of
from garrison.orgs.models import Organisation
from garrison.web.api import crud
from garrison.web.api.pagination import Page
from garrison.web.problems import Conflict, NotFound
from garrison.web.viewer import CurrentViewer, TenantSession, Viewer


def require_user_manager(viewer: CurrentViewer) -> None:
    viewer.principal.require(Permission.MANAGE_USERS)


router = crud.resource_router("/users", "users", dependencies=[Depends(require_user_manager)])
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    organisation_id: int
    role: Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    email: str | None
    language: str
    is_active: bool
    must_change_password: bool
    last_login_at: datetime | None
    memberships: list[MembershipOut]


class UserIn(crud.Body):
    username: str = Field(min_length=2, max_length=80, examples=["lan.nguyen"])
    password: Password
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: crud.Email | None = None
    language: Literal["vi", "en"] = "vi"


class UserPatch(crud.PatchBody):
    required = ("display_name", "language", "is_active")

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    email: crud.Email | None = None
    language: Literal["vi", "en"] | None = None
    is_active: bool | None = None


class PasswordIn(crud.Body):
    password: Password


class MembershipIn(crud.Body):
    role: Role


def _not_yourself(viewer: Viewer, user: User, what: str) -> None:
    if user.id == viewer.principal.user_id:
        raise Conflict(f"you cannot {what} your own account; ask another administrator")


def _membership(session: TenantSession, user: User, organisation_id: int) -> Membership | None:
    return session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation_id
        )
    )


@router.get("", response_model=Page[UserOut])
def list_users(
    session: TenantSession,
    viewer: CurrentViewer,
    page: crud.Paging,
    is_active: bool | None = None,
    search: crud.Search = None,
) -> Page[UserOut]:
    query = crud.narrowed(
        select(User).options(selectinload(User.memberships)),
        (User.is_active, is_active),
        search=search,
        searched=(User.username, User.display_name, User.email),
    )
    return crud.keyset_page(session, query, User.id, page, UserOut.model_validate)


@router.get("/{user_id}", response_model=UserOut)
def get_user(session: TenantSession, viewer: CurrentViewer, user_id: crud.RowId) -> User:
    return crud.find(session, User, user_id)


@router.post("", response_model=UserOut, status_code=201)
def create_account(session: TenantSession, viewer: CurrentViewer, body: UserIn) -> User:
    taken = select(User.id).where(User.username == body.username.lower())
    if session.scalar(taken) is not None:
        raise Conflict(f"a user named {body.username.lower()!r} already exists")
    try:
        user = create_user(
            session,
            body.username,
            body.password,
            display_name=body.display_name,
            email=body.email,
            language=body.language,
        )
    except AccountError as error:
        raise crud.invalid("username", str(error)) from None
    except WeakPassword as error:
        raise crud.invalid("password", str(error)) from None
    crud.commit(session, f"a user named {body.username.lower()!r} already exists")
    return user


@router.patch("/{user_id}", response_model=UserOut)
def update_account(
    session: TenantSession, viewer: CurrentViewer, user_id: crud.RowId, body: UserPatch
) -> User:
    user = crud.find(session, User, user_id)
    changes = body.changes()
    if changes.get("is_active") is False:
        _not_yourself(viewer, user, "deactivate")
        close_all_sessions_of(session, user)
    for name, value in changes.items():
        setattr(user, name, value)
    crud.commit(session, "the account could not be changed")
    return user


@router.post("/{user_id}/password", status_code=204)
def reset_account_password(
    session: TenantSession, viewer: CurrentViewer, user_id: crud.RowId, body: PasswordIn
) -> Response:
    user = crud.find(session, User, user_id)
    try:
        reset_password(session, user, body.password)
    except WeakPassword as error:
        raise crud.invalid("password", str(error)) from None
    crud.commit(session, "the password could not be reset")
    return Response(status_code=204)


@router.get("/{user_id}/memberships", response_model=list[MembershipOut])
def list_memberships(
    session: TenantSession, viewer: CurrentViewer, user_id: crud.RowId
) -> list[Membership]:
    return crud.find(session, User, user_id).memberships


@router.put("/{user_id}/memberships/{organisation_id}", response_model=MembershipOut)
def grant_membership(
    session: TenantSession,
    viewer: CurrentViewer,
    user_id: crud.RowId,
    organisation_id: crud.RowId,
    body: MembershipIn,
) -> Membership:
    """Give the user this role in the organisation, replacing any role they had there."""
    user = crud.find(session, User, user_id)
    organisation = crud.find(session, Organisation, organisation_id)
    _not_yourself(viewer, user, "change the memberships of")
    membership = _membership(session, user, organisation.id)
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation.id)
        session.add(membership)
    membership.role = body.role.value
    crud.commit(session, "the membership changed meanwhile; try again")
    return membership


@router.delete("/{user_id}/memberships/{organisation_id}", status_code=204)
def revoke_membership(
    session: TenantSession, viewer: CurrentViewer, user_id: crud.RowId, organisation_id: crud.RowId
) -> Response:
    user = crud.find(session, User, user_id)
    _not_yourself(viewer, user, "change the memberships of")
    membership = _membership(session, user, organisation_id)
    if membership is None:
        raise NotFound(f"user {user_id} has no membership in organisation {organisation_id}")
    session.delete(membership)
    crud.commit(session, "the membership changed meanwhile; try again")
    return Response(status_code=204)
