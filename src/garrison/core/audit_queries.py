"""Reading the audit log for people: filtered, newest first, each change as a compact diff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from garrison.core.audit import AuditEvent

AUDIT_ACTIONS = ("create", "update", "delete")
SHOWN_VALUE_LENGTH = 120


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; every condition given must hold. Times are UTC."""

    actor: str | None = None  # part of the actor, any case ("lan" finds "user:lan")
    entity: str | None = None  # a table name, exactly
    action: str | None = None  # create, update or delete
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditChange:
    """One field of one event: its value before and after, as short text ('' when absent)."""

    field: str
    before: str
    after: str


def _filtered(query: Select[Any], wanted: AuditFilter) -> Select[Any]:
    if wanted.actor:
        query = query.where(
            func.lower(AuditEvent.actor).contains(wanted.actor.lower(), autoescape=True)
        )
    if wanted.entity:
        query = query.where(AuditEvent.entity == wanted.entity)
    if wanted.action:
        query = query.where(AuditEvent.action == wanted.action)
    if wanted.since:
        query = query.where(AuditEvent.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEvent.at < wanted.until)
    return query


def count_audit_events(session: Session, wanted: AuditFilter) -> int:
    return session.scalar(_filtered(select(func.count()).select_from(AuditEvent), wanted)) or 0


def audit_events(
    session: Session, wanted: AuditFilter, *, offset: int = 0, limit: int | None = None
) -> Iterator[AuditEvent]:
    """Matching events, newest first (the id breaks ties within one transaction)."""
    query = _filtered(select(AuditEvent), wanted).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc()
    )
    query = query.offset(offset).limit(limit)
    yield from session.scalars(query.execution_options(yield_per=2000))


def audit_entities(session: Session) -> list[str]:
    """The kinds of row the log holds events for, for a filter's choices."""
    return list(session.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity)))


def _shown(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > SHOWN_VALUE_LENGTH:
        return text[: SHOWN_VALUE_LENGTH - 1] + "…"
    return text


def audit_changes(event: AuditEvent) -> list[AuditChange]:
    """The fields an event touched: every value of a created or deleted row, the changed ones
    of an update (empty values of a whole row left out). Values are shortened; redacted
    secrets stay redacted."""
    before, after = event.before or {}, event.after or {}
    fields = list(after) + [name for name in before if name not in after]
    whole = after if event.action == "create" else before
    return [
        AuditChange(name, _shown(before.get(name)), _shown(after.get(name)))
        for name in fields
        if event.action == "update" or whole.get(name) not in (None, "", [], {})
    ]
