"""Who is asking: a browser session (cookie + CSRF token) or an API token (Bearer)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from garrison.auth.accounts import principal_for
from garrison.auth.principal import Principal
from garrison.auth.tenancy import bind_principal
from garrison.auth.tokens import principal_for_token
from garrison.auth.web_sessions import resolve_web_session
from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.web.i18n import choose_language
from garrison.web.problems import Forbidden, NotAuthenticated

SESSION_COOKIE = "garrison_session"
LANGUAGE_COOKIE = "garrison_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    display_name: str
    language: str
    csrf_token: str | None  # None for API-token clients, which carry no cookie to forge


def app_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identify(request: Request, database: Database) -> Viewer | None:
    """The viewer behind a request, or None; a bad token is refused, not ignored."""
    settings = app_settings(request)
    with database.session() as session:
        token = _bearer(request)
        if token is not None:
            principal = principal_for_token(session, token)
            if principal is None:
                raise NotAuthenticated("the API token is unknown, expired or revoked")
            return Viewer(principal, principal.username, settings.language, None)
        key = request.cookies.get(SESSION_COOKIE)
        if not key:
            return None
        active = resolve_web_session(session, key)
        if active is None:
            return None
        language = choose_language(
            request.cookies.get(LANGUAGE_COOKIE), active.user.language, settings.language
        )
        return Viewer(
            principal_for(session, active.user),
            active.user.display_name,
            language,
            active.csrf_token,
        )


async def check_csrf(request: Request, viewer: Viewer) -> None:
    """Browser requests that change something must echo the session's CSRF token."""
    if request.method not in UNSAFE_METHODS or viewer.csrf_token is None:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    if not presented or not hmac.compare_digest(presented, viewer.csrf_token):
        raise Forbidden("the form's security token is missing or stale; reload the page")


async def require_viewer(request: Request) -> Viewer:
    viewer = identify(request, app_database(request))
    if viewer is None:
        raise NotAuthenticated("sign in first")
    await check_csrf(request, viewer)
    request.state.viewer = viewer
    return viewer


CurrentViewer = Annotated[Viewer, Depends(require_viewer)]


def tenant_session(request: Request, viewer: CurrentViewer) -> Iterator[Session]:
    """A database session that sees only what the viewer may see (commit to keep changes)."""
    with app_database(request).sessions() as session:
        bind_principal(session, viewer.principal)
        yield session


TenantSession = Annotated[Session, Depends(tenant_session)]
