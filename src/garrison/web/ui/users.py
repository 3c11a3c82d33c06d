"""User administration (MANAGE_USERS): the user list and its downloads, adding a user with a
first membership, granting and revoking memberships, deactivating, resetting a password.

Every change goes through `garrison.auth.accounts` in the viewer's session, so the audit log
records it under the administrator's name (password hashes redacted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.auth.accounts import (
    AccountError,
    UserSummary,
    create_user,
    grant_membership,
    list_users,
    reset_password,
    revoke_membership,
    set_user_active,
    user_by_id,
    user_summary,
)
from garrison.auth.models import User
from garrison.auth.passwords import MIN_PASSWORD_LENGTH, WeakPassword
from garrison.auth.roles import Permission, Role
from garrison.core.errors import NotFoundError
from garrison.orgs.queries import organisation_choices
from garrison.web.i18n import translations
from garrison.web.rendering import render
from garrison.web.table_export import ExportFormat, ExportTable, table_download
from garrison.web.ui.access import viewer_with
from garrison.web.ui.listing import (
    ListQuery,
    SearchText,
    list_response,
    paginate,
    shown_time,
    sorted_by,
)
from garrison.web.viewer import TenantSession, Viewer, app_settings

router = APIRouter()
UserManager = Annotated[Viewer, viewer_with(Permission.MANAGE_USERS)]
ROLE_LABELS: dict[str, str] = {
    Role.ADMINISTRATOR: "Administrator",
    Role.COORDINATOR_ANALYST: "Coordinator analyst",
    Role.DUTY_OFFICER: "Duty officer",
    Role.MEMBER_MANAGER: "Member manager",
    Role.MEMBER_STAFF: "Member staff",
    Role.TELECOM_OPERATOR: "Telecom operator",
}
# What a redirect after a change says happened (?done=…); anything else says nothing.
DONE_MESSAGES = {
    "created": "The user was created.",
    "granted": "The membership was granted.",
    "revoked": "The membership was revoked.",
    "deactivated": "The user was deactivated and signed out everywhere.",
    "reactivated": "The user was reactivated.",
    "password": "The password was reset; the user must change it at the next sign-in.",
}
USER_COLUMNS = ("User name", "Display name", "E-mail", "Active", "Memberships", "Last sign-in")
REFUSED_CHANGES = (AccountError, WeakPassword, NotFoundError)
Name = Annotated[str, Form(max_length=200)]
OrganisationChoice = Annotated[int, Form()]
RoleChoice = Annotated[Role, Form()]
Password = Annotated[str, Form(max_length=1000)]


class UserQuery(ListQuery):
    search: SearchText = ""
    role: Annotated[str, Field(max_length=40)] = ""
    sort: Literal["username", "display_name", "email", "is_active", "last_login_at"] = "username"


def _matching(session: Session, query: UserQuery) -> list[UserSummary]:
    found = list_users(session, search=query.search or None, role=query.role or None)
    return sorted_by(found, query)


def _form_choices(request: Request, session: Session) -> dict[str, Any]:
    """What the user pages' forms offer, and how they show times."""
    zone = app_settings(request).zone
    return {
        "when": lambda moment: shown_time(moment, zone),
        "organisations": organisation_choices(session),
        "roles": list(ROLE_LABELS.items()),
        "role_labels": ROLE_LABELS,
        "min_password_length": MIN_PASSWORD_LENGTH,
    }


def _refusal(viewer: Viewer, error: Exception) -> str:
    _ = translations(viewer.language).gettext
    if isinstance(error, WeakPassword):
        return _(
            "The password is too weak: use at least %(length)d characters, without the user name."
        ) % {"length": MIN_PASSWORD_LENGTH}
    return _("The change was refused:") + f" {error}"


def _user_list_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    query: UserQuery,
    *,
    error: str | None = None,
    submitted: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "query": query,
        "listing": paginate(_matching(session, query), query.page),
        "error": error,
        "submitted": submitted or {},
        **_form_choices(request, session),
    }
    if error is not None:
        return render(request, "users.html", context, viewer=viewer, status_code=status_code)
    return list_response(request, viewer, "users.html", "partials/user_rows.html", context)


@router.get("/users")
def user_list(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    query: Annotated[UserQuery, Query()],
) -> Response:
    return _user_list_page(request, viewer, session, query)


@router.get("/users.{export_format}")
def user_export(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    query: Annotated[UserQuery, Query()],
    export_format: ExportFormat,
) -> Response:
    _ = translations(viewer.language).gettext
    zone = app_settings(request).zone
    header = [_(label) for label in USER_COLUMNS]
    header[-1] += f" ({zone.key})"
    rows = [
        [
            user.username,
            user.display_name,
            user.email or "",
            _("Yes") if user.is_active else _("No"),
            "; ".join(
                f"{m.organisation}: {_(ROLE_LABELS.get(m.role, m.role))}" for m in user.memberships
            ),
            shown_time(user.last_login_at, zone),
        ]
        for user in _matching(session, query)
    ]
    return table_download(ExportTable("users", _("Users"), header, rows), export_format)


@router.post("/users")
def user_create(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    username: Annotated[str, Form(max_length=80)],
    display_name: Name,
    password: Password,
    organisation: OrganisationChoice,
    role: RoleChoice,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    try:
        user = create_user(
            session,
            username,
            password,
            display_name=display_name.strip() or None,
            email=email.strip() or None,
        )
        grant_membership(session, user, str(organisation), role)
        session.commit()
    except REFUSED_CHANGES as exc:
        session.rollback()
        submitted = {
            "username": username,
            "display_name": display_name,
            "email": email,
            "organisation": organisation,
            "role": role.value,
        }
        return _user_list_page(
            request,
            viewer,
            session,
            UserQuery(),
            error=_refusal(viewer, exc),
            submitted=submitted,
            status_code=422,
        )
    return RedirectResponse(f"/users/{user.id}?done=created", status_code=303)


def _user_page(
    request: Request,
    viewer: Viewer,
    session: Session,
    user_id: int,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    _ = translations(viewer.language).gettext
    context = {
        "user": user_summary(session, user_id),
        "is_self": user_id == viewer.principal.user_id,
        "done": _(DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
        "error": error,
        **_form_choices(request, session),
    }
    return render(request, "user.html", context, viewer=viewer, status_code=status_code)


@router.get("/users/{user_id}")
def user_detail(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    user_id: int,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _user_page(request, viewer, session, user_id, done=done)


def _change_user(
    request: Request,
    viewer: Viewer,
    session: Session,
    user_id: int,
    change: Callable[[User], None],
    done: str,
) -> Response:
    """Apply one change to a user and commit, or show the user again with why it was refused."""
    user = user_by_id(session, user_id)
    try:
        change(user)
        session.commit()
    except REFUSED_CHANGES as exc:
        session.rollback()
        error = _refusal(viewer, exc)
        return _user_page(request, viewer, session, user_id, error=error, status_code=422)
    return RedirectResponse(f"/users/{user_id}?done={done}", status_code=303)


def _not_self(viewer: Viewer, user: User, what: str) -> None:
    if user.id == viewer.principal.user_id:
        raise AccountError(f"you cannot {what} yourself; ask another administrator")


@router.post("/users/{user_id}/memberships")
def membership_grant(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    user_id: int,
    organisation: OrganisationChoice,
    role: RoleChoice,
) -> Response:
    def grant(user: User) -> None:
        grant_membership(session, user, str(organisation), role)

    return _change_user(request, viewer, session, user_id, grant, "granted")


@router.post("/users/{user_id}/memberships/{membership_id}/revoke")
def membership_revoke(
    request: Request, viewer: UserManager, session: TenantSession, user_id: int, membership_id: int
) -> Response:
    def revoke(user: User) -> None:
        _not_self(viewer, user, "revoke a membership of")
        revoke_membership(session, user, membership_id)

    return _change_user(request, viewer, session, user_id, revoke, "revoked")


@router.post("/users/{user_id}/password")
def user_password_reset(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    user_id: int,
    password: Password,
) -> Response:
    def reset(user: User) -> None:
        reset_password(session, user, password)

    return _change_user(request, viewer, session, user_id, reset, "password")


@router.post("/users/{user_id}/{change}")
def user_activation(
    request: Request,
    viewer: UserManager,
    session: TenantSession,
    user_id: int,
    change: Literal["deactivate", "reactivate"],
) -> Response:
    """Deactivate (signed out everywhere at once) or reactivate a user. Registered last: the
    other user forms' paths must match first."""

    def switch(user: User) -> None:
        if change == "deactivate":
            _not_self(viewer, user, "deactivate")
        set_user_active(session, user, change == "reactivate")

    return _change_user(request, viewer, session, user_id, switch, f"{change}d")
