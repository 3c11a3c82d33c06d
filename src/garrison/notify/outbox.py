"""Putting messages in the outbox, in the caller's transaction, and the people's fixes to them.

A message is enqueued in the same session as the change that causes it: if that change rolls
back, no message exists; if it commits, the message is there for the sender, who sends it
once. Enqueueing the same idempotency key again returns the stored message unchanged, so a
cause that runs twice (a retried job, a re-imported list) never mails twice.

Two concurrent transactions enqueueing the same key cannot both commit: the unique key makes
the later one fail as a whole, its cause with it, and a retry of it then finds the message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.clock import utc_now
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.notify.mail import Attachment, one_line, parse_address, safe_filename
from garrison.notify.models import (
    MAX_ATTACHMENT_BYTES,
    Channel,
    OutboxAttachment,
    OutboxMessage,
    Status,
)

NO_ADDRESS = "no e-mail address"
MAX_KEY_CHARS = 200
MAX_SUBJECT_CHARS = 900
"""Leaves room for the subject prefix within the stored 1000 characters."""

Cause = tuple[str, int | str]


class InvalidMessage(GarrisonError):
    """A message cannot be queued or changed as given; the text names the field and why."""


class OutboxStateError(GarrisonError):
    """The message is not in a state that allows what was asked (e.g. retrying a sent one)."""


def checked_recipients(recipients: Iterable[str]) -> list[str]:
    """Bare addresses, each checked, duplicates dropped (first spelling kept)."""
    found: list[str] = []
    seen: set[str] = set()
    for given in recipients:
        try:
            address = parse_address(given).addr_spec
        except ValueError as exc:
            raise InvalidMessage(f"recipient: {exc}") from exc
        if address.casefold() not in seen:
            seen.add(address.casefold())
            found.append(address)
    return found


def _checked_key(key: str) -> str:
    if not key or not key.strip():
        raise InvalidMessage("idempotency key: it is empty")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidMessage(f"idempotency key: longer than {MAX_KEY_CHARS} characters")
    if one_line(key) != key:
        raise InvalidMessage("idempotency key: it holds spaces or control characters")
    return key


def _stored(session: Session, key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def _cause_fields(cause: Cause | None) -> dict[str, Any]:
    if cause is None:
        return {"cause_entity": None, "cause_id": None}
    entity, entity_id = cause
    if not entity or len(entity) > 60 or len(str(entity_id)) > 60:
        raise InvalidMessage(f"cause: {cause!r} is not an entity name and id")
    return {"cause_entity": entity, "cause_id": str(entity_id)}


def _attachment_rows(attachments: Iterable[Attachment]) -> list[OutboxAttachment]:
    rows = [
        OutboxAttachment(
            position=position,
            filename=safe_filename(item.filename),
            media_type=item.media_type[:255],
            content=bytes(item.content),
        )
        for position, item in enumerate(attachments)
    ]
    total = sum(len(row.content) for row in rows)
    if total > MAX_ATTACHMENT_BYTES:
        raise InvalidMessage(
            f"attachments: {total} bytes together, more than {MAX_ATTACHMENT_BYTES} "
            "(send a link to the document instead)"
        )
    return rows


def enqueue_email(
    session: Session,
    *,
    key: str,
    recipients: Iterable[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    cause: Cause | None = None,
    organisation_id: int | None = None,
) -> OutboxMessage:
    """Queue an e-mail in the caller's transaction; the same key again returns the stored one.

    Without any recipient the message is stored `held` ("no e-mail address"): it stays
    visible in the outbox and is sent only once someone gives it an address (`release`).
    """
    stored = _stored(session, _checked_key(key))
    if stored is not None:
        return stored
    addresses = checked_recipients(recipients)
    if len(subject) > MAX_SUBJECT_CHARS:
        raise InvalidMessage(f"subject: longer than {MAX_SUBJECT_CHARS} characters")
    message = OutboxMessage(
        channel=Channel.EMAIL.value,
        idempotency_key=key,
        status=Status.PENDING.value if addresses else Status.HELD.value,
        last_error=None if addresses else NO_ADDRESS,
        recipients=addresses,
        subject=one_line(subject),
        text_body=text,
        html_body=html,
        attachments=_attachment_rows(attachments),
        attempts=0,
        next_attempt_at=utc_now(),
        organisation_id=organisation_id,
        **_cause_fields(cause),
    )
    session.add(message)
    session.flush()
    return message


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidMessage(f"webhook URL: {url!r} is not an http:// or https:// URL")
    if len(url) > 2000:
        raise InvalidMessage("webhook URL: longer than 2000 characters")
    return url


def enqueue_webhook(
    session: Session,
    *,
    key: str,
    url: str,
    payload: Mapping[str, Any],
    secret: str | None = None,
    cause: Cause | None = None,
    organisation_id: int | None = None,
) -> OutboxMessage:
    """Queue a webhook call (a JSON POST signed with `secret`) in the caller's transaction."""
    stored = _stored(session, _checked_key(key))
    if stored is not None:
        return stored
    message = OutboxMessage(
        channel=Channel.WEBHOOK.value,
        idempotency_key=key,
        status=Status.PENDING.value,
        recipients=[],
        subject="",
        text_body="",
        webhook_url=_checked_url(url),
        webhook_payload=dict(payload),
        webhook_secret=secret or None,
        attempts=0,
        next_attempt_at=utc_now(),
        organisation_id=organisation_id,
        **_cause_fields(cause),
    )
    session.add(message)
    session.flush()
    return message


def find_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFoundError(f"outbox message {message_id} does not exist")
    return message


def _send_again(message: OutboxMessage, now: datetime) -> None:
    message.status = Status.PENDING.value
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_at = None


def retry(session: Session, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """A failed message goes back in the queue with a fresh set of attempts."""
    message = find_message(session, message_id)
    if message.status != Status.FAILED:
        raise OutboxStateError(
            f"outbox message {message_id} is {message.status}: only a failed message is retried"
        )
    _send_again(message, now or utc_now())
    session.flush()
    return message


def release(
    session: Session, message_id: int, recipients: Iterable[str], now: datetime | None = None
) -> OutboxMessage:
    """Give a held (or failed) e-mail the addresses it lacked and queue it again."""
    message = find_message(session, message_id)
    if message.channel != Channel.EMAIL:
        raise OutboxStateError(f"outbox message {message_id} is a webhook call, not an e-mail")
    if message.status not in (Status.HELD, Status.FAILED):
        raise OutboxStateError(
            f"outbox message {message_id} is {message.status}: "
            "only a held or failed e-mail takes new addresses"
        )
    addresses = checked_recipients(recipients)
    if not addresses:
        raise InvalidMessage("recipient: give at least one e-mail address")
    message.recipients = addresses
    message.last_error = None
    _send_again(message, now or utc_now())
    session.flush()
    return message
