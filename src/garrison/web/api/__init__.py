"""JSON API under /api/v1, documented by OpenAPI at /api/docs (served without any CDN)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

from garrison.web.api import (
    assets,
    components,
    contacts,
    domains,
    intel,
    networks,
    organisations,
    users,
)

router = APIRouter()
for resource in (organisations, networks, domains, contacts, assets, components, users):
    router.include_router(resource.router, prefix="/api/v1")
for intel_router in (intel.indicators, intel.sources, intel.uploads):
    router.include_router(intel_router, prefix="/api/v1")


@router.get("/api/docs", include_in_schema=False)
def api_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="Garrison API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )
