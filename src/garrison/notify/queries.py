"""Reading the outbox for people: messages newest first, filtered, and counts per status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from garrison.notify.models import OutboxMessage, Status


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None
    channel: str | None = None
    search: str | None = None
    """Part of the key, a recipient, the subject or the webhook URL (case-insensitive)."""


def _filtered(statement: Select[OutboxMessage], wanted: OutboxFilter) -> Select[OutboxMessage]:
    if wanted.status:
        statement = statement.where(OutboxMessage.status == wanted.status)
    if wanted.channel:
        statement = statement.where(OutboxMessage.channel == wanted.channel)
    if wanted.search:
        text = wanted.search.lower()
        searched = (
            OutboxMessage.idempotency_key,
            OutboxMessage.subject,
            OutboxMessage.webhook_url,
            cast(OutboxMessage.recipients, Text),
        )
        statement = statement.where(
            or_(*(func.lower(column).contains(text, autoescape=True) for column in searched))
        )
    return statement


def outbox_messages(
    session: Session, wanted: OutboxFilter, *, offset: int = 0, limit: int | None = None
) -> Sequence[OutboxMessage]:
    statement = _filtered(select(OutboxMessage), wanted).order_by(OutboxMessage.id.desc())
    return session.scalars(statement.offset(offset).limit(limit)).all()


def count_outbox_messages(session: Session, wanted: OutboxFilter) -> int:
    statement = _filtered(select(OutboxMessage), wanted)
    return session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def status_counts(session: Session) -> dict[str, int]:
    """Messages per status, every status present (0 when none)."""
    counts = dict.fromkeys((status.value for status in Status), 0)
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    for status, count in rows:
        counts[status] = count
    return counts
