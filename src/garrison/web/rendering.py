"""Rendering pages: every template gets the viewer, its language's `_` and the CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from garrison import __version__
from garrison.web.i18n import choose_language, translations
from garrison.web.viewer import LANGUAGE_COOKIE, Viewer, app_settings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TEMPLATES.env.autoescape = True


def request_language(request: Request, viewer: Viewer | None = None) -> str:
    if viewer is not None:
        return viewer.language
    return choose_language(request.cookies.get(LANGUAGE_COOKIE), app_settings(request).language)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status_code: int = 200,
) -> Response:
    language = request_language(request, viewer)
    catalogue = translations(language)
    values = {
        "_": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "lang": language,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer else "",
        "version": __version__,
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
