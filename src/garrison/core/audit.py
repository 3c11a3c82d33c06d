"""The audit log: every create, update and delete by a person or a job leaves an AuditEvent.

ORM changes are recorded automatically when a session flushes; bulk imports that bypass the
ORM call `record_audit_events` with the rows they changed, in the same transaction.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from sqlalchemy import JSON, Connection, Integer, String, Text, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from garrison.core.clock import utc_now
from garrison.core.model import Base, UtcDateTime

AuditAction = Literal["create", "update", "delete"]

_current_actor: ContextVar[str | None] = ContextVar("garrison_actor", default=None)


def command_line_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def current_actor() -> str:
    return _current_actor.get() or command_line_actor()


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute every change made inside the block to `actor` (e.g. 'user:lan', 'job:import')."""
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    entity: Mapped[str] = mapped_column(String(60), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(60), nullable=False)
    label: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


REDACTED = "<redacted>"
REDACTED_NEW_VALUE = "<redacted: new value>"


class Audited:
    """Mixin for tables whose every change is audited; `audit_label` names the row for people.

    Columns in `audit_redacted` (secrets such as password hashes) are logged as changed,
    never with their value.
    """

    audit_redacted: ClassVar[frozenset[str]] = frozenset()
    audit_ignored: ClassVar[frozenset[str]] = frozenset()  # bookkeeping such as last use

    def audit_label(self) -> str:
        return str(getattr(self, "name", "") or getattr(self, "id", ""))


def json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class AuditRecord:
    action: AuditAction
    entity: str
    entity_id: str
    label: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record_audit_events(
    connection: Connection | Session, records: Sequence[AuditRecord], actor: str | None = None
) -> None:
    """Write audit events for changes made outside the ORM, inside the caller's transaction."""
    if not records:
        return
    if actor is None and isinstance(connection, Session):
        actor = connection.info.get("actor")
    actor, at = actor or current_actor(), utc_now()
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": record.action,
            "entity": record.entity,
            "entity_id": record.entity_id,
            "label": record.label,
            "before": json_safe(record.before),
            "after": json_safe(record.after),
        }
        for record in records
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(AuditEvent), rows[start : start + 5000])


def _snapshot(obj: Any, *, previous: bool) -> dict[str, Any]:
    state = inspect(obj)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in ("created_at", "updated_at") or attr.key in obj.audit_ignored:
            continue
        history = state.attrs[attr.key].history
        if attr.key in obj.audit_redacted:
            fresh = not previous and history.has_changes()
            values[attr.key] = REDACTED_NEW_VALUE if fresh else REDACTED
        elif previous and history.has_changes():
            values[attr.key] = history.deleted[0] if history.deleted else None
        else:
            values[attr.key] = getattr(obj, attr.key)
    return values


def _changed_only(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _record_orm_changes(session: Session, _context: Any) -> None:
    records: list[AuditRecord] = []
    changes: tuple[tuple[AuditAction, Any], ...] = (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    )
    for action, objects in changes:
        for obj in objects:
            if not isinstance(obj, Audited):
                continue
            mapper = inspect(obj).mapper
            table = mapper.local_table.name
            identity = mapper.primary_key_from_instance(obj)
            entity_id = ",".join(str(part) for part in identity)
            if action == "create":
                before, after = None, _snapshot(obj, previous=False)
            elif action == "delete":
                before, after = _snapshot(obj, previous=False), None
            else:
                if not session.is_modified(obj, include_collections=False):
                    continue
                old, new = _snapshot(obj, previous=True), _snapshot(obj, previous=False)
                before, after = _changed_only(old, new)
                if not after:
                    continue
            records.append(AuditRecord(action, table, entity_id, obj.audit_label(), before, after))
    record_audit_events(session.connection(), records, session.info.get("actor"))


event.listen(Session, "after_flush", _record_orm_changes)
