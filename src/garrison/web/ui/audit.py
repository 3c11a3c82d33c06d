"""The audit log page: newest first, filters, pages, each change as a compact diff, downloads.

Events name rows of every organisation, so only coordinator staff holding VIEW_AUDIT read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.responses import Response

from garrison.auth.principal import PermissionDenied
from garrison.auth.roles import Permission
from garrison.core.audit import AuditEvent
from garrison.core.audit_queries import (
    AUDIT_ACTIONS,
    AuditChange,
    AuditFilter,
    audit_changes,
    audit_entities,
    audit_events,
    count_audit_events,
)
from garrison.web.i18n import translations
from garrison.web.table_export import ExportFormat, ExportTable, table_download
from garrison.web.ui.access import viewer_with
from garrison.web.ui.listing import (
    PAGE_SIZE,
    Listing,
    ListQuery,
    OptionalDate,
    SearchText,
    list_response,
    offset_of,
    shown_time,
)
from garrison.web.viewer import TenantSession, Viewer, app_settings

router = APIRouter()
AUDIT_COLUMNS = ("Time", "Actor", "Action", "Entity", "Entity id", "Label", "Changes")
ACTION_LABELS = {"create": "created", "update": "updated", "delete": "deleted"}


class AuditQuery(ListQuery):
    actor: SearchText = ""
    entity: Annotated[str, Field(max_length=60)] = ""
    action: Literal["", "create", "update", "delete"] = ""
    since: OptionalDate = None
    until: OptionalDate = None


@dataclass(frozen=True)
class AuditRow:
    """One event as the page and its downloads show it: local time, translated action."""

    at: str
    actor: str
    action: str
    action_label: str
    entity: str
    entity_id: str
    label: str
    changes: list[AuditChange]

    def changes_text(self) -> str:
        def one(change: AuditChange) -> str:
            if self.action == "update":
                return f"{change.field}: {change.before} → {change.after}"
            return f"{change.field}: {change.after if self.action == 'create' else change.before}"

        return "; ".join(one(change) for change in self.changes)


def _audit_reader(viewer: Annotated[Viewer, viewer_with(Permission.VIEW_AUDIT)]) -> Viewer:
    if not viewer.principal.sees_everything:
        raise PermissionDenied(f"{viewer.principal.username} may not read the whole audit log")
    return viewer


AuditReader = Annotated[Viewer, Depends(_audit_reader)]


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _audit_filter(query: AuditQuery, zone: ZoneInfo) -> AuditFilter:
    """The page's dates are whole days in the configured zone, both ends included."""
    until = None
    if query.until is not None and query.until < date.max:
        until = _day_start(query.until + timedelta(days=1), zone)
    return AuditFilter(
        actor=query.actor or None,
        entity=query.entity or None,
        action=query.action or None,
        since=_day_start(query.since, zone) if query.since else None,
        until=until,
    )


def _rows(events: Iterable[AuditEvent], viewer: Viewer, zone: ZoneInfo) -> Iterator[AuditRow]:
    _ = translations(viewer.language).gettext
    for event in events:
        yield AuditRow(
            shown_time(event.at, zone),
            event.actor,
            event.action,
            _(ACTION_LABELS.get(event.action, event.action)),
            event.entity,
            event.entity_id,
            event.label or "",
            audit_changes(event),
        )


@router.get("/audit")
def audit_log(
    request: Request,
    viewer: AuditReader,
    session: TenantSession,
    query: Annotated[AuditQuery, Query()],
) -> Response:
    zone = app_settings(request).zone
    wanted = _audit_filter(query, zone)
    events = audit_events(session, wanted, offset=offset_of(query.page), limit=PAGE_SIZE)
    listing = Listing(
        list(_rows(events, viewer, zone)), count_audit_events(session, wanted), query.page
    )
    context = {
        "query": query,
        "listing": listing,
        "entities": audit_entities(session),
        "actions": [(action, ACTION_LABELS[action]) for action in AUDIT_ACTIONS],
        "zone": zone.key,
    }
    return list_response(request, viewer, "audit.html", "partials/audit_rows.html", context)


@router.get("/audit.{export_format}")
def audit_export(
    request: Request,
    viewer: AuditReader,
    session: TenantSession,
    query: Annotated[AuditQuery, Query()],
    export_format: ExportFormat,
) -> Response:
    _ = translations(viewer.language).gettext
    zone = app_settings(request).zone
    header = [_(label) for label in AUDIT_COLUMNS]
    header[0] += f" ({zone.key})"
    rows = [
        [
            row.at,
            row.actor,
            row.action_label,
            row.entity,
            row.entity_id,
            row.label,
            row.changes_text(),
        ]
        for row in _rows(audit_events(session, _audit_filter(query, zone)), viewer, zone)
    ]
    return table_download(ExportTable("audit", _("Audit log"), header, rows), export_format)
