"""Server-rendered pages (Jinja2 + HTMX)."""

from __future__ import annotations

from fastapi import APIRouter

from garrison.web.ui import (
    account,
    assets,
    audit,
    dashboard,
    imports,
    indicators,
    intel_sources,
    organisations,
    outbox,
    users,
)

router = APIRouter(include_in_schema=False)
router.include_router(account.router)
router.include_router(dashboard.router)
router.include_router(organisations.router)
router.include_router(assets.router)
router.include_router(users.router)
router.include_router(audit.router)
router.include_router(imports.router)
router.include_router(indicators.router)
router.include_router(intel_sources.router)
router.include_router(outbox.router)
