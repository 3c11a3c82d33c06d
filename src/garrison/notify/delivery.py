"""The sender: delivers due outbox messages, one at a time, each step in its own transaction.

For each message: (1) claim it — `sending`, with the claim time — and commit; (2) send it
with no transaction open; (3) commit the outcome: `sent`; or `pending` again with one more
attempt, the pause of the backoff schedule and the error; or `failed` when the server
refused it for good or the attempts are spent.

What this guarantees. A message is claimed by one sender at a time (the claim is a
compare-and-set on its status and claim time). A sender killed between messages loses
nothing: committed outcomes stand, and a message it had claimed but not yet sent is taken
again once its claim is older than `CLAIM_LEASE`, so every message is delivered exactly once
across such crashes. The one gap no outbox can close: a crash after the receiving server
accepted a message but before `sent` was committed sends that one message again after the
lease. Its Message-ID (e-mail) and X-Garrison-Delivery header (webhook) are those of the
first attempt, derived from the idempotency key, so the receiver can drop the repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from garrison.core.audit import acting_as
from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.notify.channels.interface import DeliveryError, MessageChannel
from garrison.notify.channels.smtp import SmtpChannel
from garrison.notify.channels.webhook import WebhookChannel
from garrison.notify.models import Channel, OutboxMessage, Status

log = logging.getLogger("garrison.outbox")
ACTOR = "job:outbox"
CLAIM_LEASE = timedelta(minutes=15)
"""A `sending` message claimed longer ago than this belongs to a sender that died."""
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360))
"""Pause after the 1st, 2nd … failed attempt; the last one repeats."""
MAX_ERROR_CHARS = 2000


def backoff(attempts: int) -> timedelta:
    """The pause before the next try, after `attempts` failed ones."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Outcome:
    """What became of one message in one attempt."""

    message_id: int
    key: str
    channel: str
    status: str  # sent, pending (to be retried), failed
    error: str | None = None


@dataclass
class DeliveryReport:
    outcomes: list[Outcome] = field(default_factory=list)
    email_off: bool = False
    """E-mail delivery is not configured (no GARRISON_SMTP_HOST): e-mails stay pending."""

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def sent(self) -> int:
        return self.count(Status.SENT)

    @property
    def retrying(self) -> int:
        return self.count(Status.PENDING)

    @property
    def failed(self) -> int:
        return self.count(Status.FAILED)


def channel_names(settings: Settings) -> list[str]:
    """The channels this configuration can send through."""
    names = [Channel.WEBHOOK.value]
    if settings.smtp_host:
        names.append(Channel.EMAIL.value)
    return sorted(names)


def open_channels(settings: Settings) -> dict[str, MessageChannel]:
    """The channels the settings make available: webhooks always, e-mail with an SMTP host."""
    channels: dict[str, MessageChannel] = {Channel.WEBHOOK.value: WebhookChannel(settings)}
    if settings.smtp_host:
        channels[Channel.EMAIL.value] = SmtpChannel(settings)
    return channels


def _due(now: datetime, channels: list[str]) -> ColumnElement[bool]:
    waiting = and_(OutboxMessage.status == Status.PENDING, OutboxMessage.next_attempt_at <= now)
    abandoned = and_(
        OutboxMessage.status == Status.SENDING, OutboxMessage.claimed_at <= now - CLAIM_LEASE
    )
    return and_(or_(waiting, abandoned), OutboxMessage.channel.in_(channels))


def count_due(database: Database, channels: list[str], now: datetime | None = None) -> int:
    with database.session() as session:
        statement = select(func.count()).where(_due(now or utc_now(), channels))
        return session.scalar(statement.select_from(OutboxMessage)) or 0


def _claim_next(database: Database, now: datetime, channels: list[str]) -> OutboxMessage | None:
    """Take the most overdue message for this sender and commit the claim; None when none is
    due. A message another sender claimed in between is skipped (None is not returned for
    it: the caller's loop simply asks again)."""
    with database.session() as session:
        candidate = session.scalars(
            select(OutboxMessage)
            .where(_due(now, channels))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
        ).first()
        if candidate is None:
            return None
        previous_claim = candidate.claimed_at
        same_claim = (
            OutboxMessage.claimed_at.is_(None)
            if previous_claim is None
            else OutboxMessage.claimed_at == previous_claim
        )
        claimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == candidate.id,
                OutboxMessage.status == candidate.status,
                same_claim,
            )
            .values(status=Status.SENDING.value, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            log.info("outbox message %s was claimed by another sender", candidate.id)
            session.expunge(candidate)
            return _claim_next(database, now, channels)
        _ = candidate.attachments  # loaded now: the channel reads them without a session
        session.expunge(candidate)
    candidate.status, candidate.claimed_at = Status.SENDING.value, now
    return candidate


def _record(
    database: Database,
    claimed: OutboxMessage,
    now: datetime,
    max_attempts: int,
    note: str | None,
    error: DeliveryError | None,
) -> Outcome:
    with acting_as(ACTOR), database.session() as session:
        message = session.get(OutboxMessage, claimed.id)
        if message is None or message.status != Status.SENDING:
            status = message.status if message is not None else "gone"
            return Outcome(claimed.id, claimed.idempotency_key, claimed.channel, status)
        message.attempts += 1
        message.claimed_at = None
        if error is None:
            message.status = Status.SENT.value
            message.sent_at = now
            message.last_error = note[:MAX_ERROR_CHARS] if note else None
            message.webhook_secret = None
        elif error.permanent or message.attempts >= max_attempts:
            message.status = Status.FAILED.value
            reason = error.reason if error.permanent else f"gave up after {message.attempts}"
            if not error.permanent:
                reason += f" attempts: {error.reason}"
            message.last_error = reason[:MAX_ERROR_CHARS]
        else:
            message.status = Status.PENDING.value
            message.next_attempt_at = now + backoff(message.attempts)
            message.last_error = error.reason[:MAX_ERROR_CHARS]
        return Outcome(
            message.id,
            message.idempotency_key,
            message.channel,
            message.status,
            message.last_error if error is not None else None,
        )


def _attempt(
    channel: MessageChannel, message: OutboxMessage
) -> tuple[str | None, DeliveryError | None]:
    try:
        return channel.send(message), None
    except DeliveryError as error:
        return None, error
    except Exception as exc:  # a fault in building or sending this message: keep it, retry
        log.exception("outbox message %s: unexpected failure", message.id)
        return None, DeliveryError(
            f"unexpected failure: {type(exc).__name__}: {exc}", permanent=False
        )


def deliver_due(
    database: Database,
    settings: Settings,
    now: datetime | None = None,
    limit: int = 100,
    *,
    channels: Mapping[str, MessageChannel] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> DeliveryReport:
    """Send up to `limit` due messages, most overdue first, and say what became of each.

    `now` fixes the clock (tests, replays); by default each step reads the time afresh.
    `channels` replaces the ones the settings open (the caller then closes them).
    """
    opened = open_channels(settings) if channels is None else None
    available = dict(opened if opened is not None else channels or {})
    report = DeliveryReport(email_off=Channel.EMAIL.value not in available)
    names = sorted(available)
    try:
        for _ in range(limit):
            claimed = _claim_next(database, now or utc_now(), names)
            if claimed is None:
                break
            note, error = _attempt(available[claimed.channel], claimed)
            outcome = _record(
                database, claimed, now or utc_now(), settings.outbox_max_attempts, note, error
            )
            report.outcomes.append(outcome)
            log.info(
                "outbox message %s (%s) %s%s",
                outcome.message_id,
                outcome.channel,
                outcome.status,
                f": {outcome.error}" if outcome.error else "",
            )
            if on_outcome is not None:
                on_outcome(outcome)
    finally:
        for channel in (opened or {}).values():
            channel.close()
    return report
