"""Signing in and out, and choosing the page language."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from garrison.auth.accounts import TooManyAttempts, authenticate
from garrison.auth.web_sessions import close_web_session, open_web_session
from garrison.web.i18n import LANGUAGES, translations
from garrison.web.rendering import render, request_language
from garrison.web.viewer import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    app_database,
    check_csrf,
    identify,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a signed-in user to another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc or "\\" in target else target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    _ = translations(request_language(request)).gettext
    address = request.client.host if request.client else None
    database = app_database(request)
    try:
        with database.session() as session:
            signed = authenticate(session, username, password, address)
            opened = open_web_session(session, signed.user) if signed else None
    except TooManyAttempts:
        return render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": _("Too many failed sign-ins. Wait 15 minutes and try again."),
            },
            status_code=429,
        )
    if opened is None:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": _("Wrong user name or password.")},
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.key,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    viewer = identify(request, app_database(request))
    key = request.cookies.get(SESSION_COOKIE)
    if viewer is not None and key:
        await check_csrf(request, viewer)
        with app_database(request).session() as session:
            close_web_session(session, key)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/language/{language}")
def switch_language(request: Request, language: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="lax", max_age=365 * 86400)
    return response
