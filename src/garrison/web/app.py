"""The FastAPI application: pages, API, static files, and one place that turns errors into
problem details (API) or error pages (UI)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from garrison import __version__
from garrison.auth.principal import PermissionDenied
from garrison.core.db import Database
from garrison.core.errors import GarrisonError, InputError, NotFoundError
from garrison.core.settings import Settings, load_settings
from garrison.web import api, ui
from garrison.web.problems import WebProblem, problem_response
from garrison.web.rendering import render

STATIC_DIR = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, title: str, detail: str, **extra: object) -> Response:
    if _is_api(request):
        return problem_response(status, title, detail, request.url.path, **extra)
    if status == 401:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/login?next={target}", status_code=303)
    viewer = getattr(request.state, "viewer", None)
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        viewer=viewer,
        status_code=status,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WebProblem)
    async def web_problem(request: Request, exc: WebProblem) -> Response:
        return _error(request, exc.status, exc.title, exc.detail, **exc.extensions)

    @app.exception_handler(PermissionDenied)
    async def denied(request: Request, exc: PermissionDenied) -> Response:
        return _error(request, 403, "Forbidden", str(exc))

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, "Not found", str(exc))

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: InputError) -> Response:
        return _error(
            request,
            422,
            "Input rejected",
            "nothing was written",
            errors=[str(problem) for problem in exc.problems],
        )

    @app.exception_handler(GarrisonError)
    async def garrison_error(request: Request, exc: GarrisonError) -> Response:
        return _error(request, 400, "Bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"location": list(map(str, e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return _error(
            request, 422, "Unprocessable content", "the request is not valid", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), str(exc.detail))


def create_app(database: Database, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Garrison",
        version=__version__,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.database = database
    app.state.settings = settings

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and request.url.path == "/api/docs":
                continue
            response.headers.setdefault(name, value)
        return response

    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api.router)
    app.include_router(ui.router)
    return app


def app_from_environment() -> FastAPI:
    """The app as each worker process of `garrison serve --workers N` builds it: settings from
    the environment the command prepared, and an engine of its own (connections are not
    shared across processes). The command has migrated the schema already."""
    settings = load_settings()
    return create_app(Database.open(settings, migrate_schema=False), settings)
