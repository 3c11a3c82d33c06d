"""The outbox: every outgoing message, written in the same transaction as the change that
causes it, then sent (and retried) by the scheduler or the worker.

Attachments are rows of their own (`OutboxAttachment`, the bytes in a LargeBinary column)
rather than files under the data directory: a row is written and rolled back together with
its message and its cause, so a rolled-back notice leaves no orphan file and a committed one
can never point at a file that is missing; database backups carry them too. Attachments are
small documents (a notice's spreadsheet, a report), and `MAX_ATTACHMENT_BYTES` keeps them so.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from garrison.core.audit import Audited
from garrison.core.clock import utc_now
from garrison.core.model import Base, Timestamped, UtcDateTime


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Status(StrEnum):
    """pending: waiting for its turn (or for e-mail to be configured); sending: claimed by a
    sender; sent: accepted by the receiving server; failed: refused for good or out of
    attempts (a person may retry it); held: cannot be sent as it is (no address) until a
    person supplies what is missing and releases it."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"


def _values(kind: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in kind)


MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
"""All attachments of one message together; most mail servers refuse larger messages."""


class OutboxMessage(Audited, Timestamped, Base):
    """One message to send once: an e-mail or a webhook call."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(f"channel IN ({_values(Channel)})", name="channel"),
        CheckConstraint(f"status IN ({_values(Status)})", name="status"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )
    audit_redacted = frozenset({"webhook_secret"})
    audit_ignored = frozenset({"text_body", "html_body", "webhook_payload", "claimed_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    """Names the message for good: enqueued twice, it is stored once; sent, it carries the key
    (Message-ID, X-Garrison-Delivery) so that a receiver can drop a repeat."""
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=Status.PENDING.value)
    recipients: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    subject: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    text_body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    html_body: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    webhook_secret: Mapped[str | None] = mapped_column(String(500))
    """The HMAC key of the receiving webhook; forgotten once the message is sent."""
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, default=utc_now)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a sender took it; a `sending` message claimed long ago belongs to a dead sender."""
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cause_entity: Mapped[str | None] = mapped_column(String(60))
    cause_id: Mapped[str | None] = mapped_column(String(60))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    """The organisation the message concerns; a message outlives an organisation's removal."""

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message",
        order_by="OutboxAttachment.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def audit_label(self) -> str:
        return self.idempotency_key

    @property
    def cause(self) -> tuple[str, str] | None:
        if self.cause_entity is None:
            return None
        return (self.cause_entity, self.cause_id or "")

    @property
    def destination(self) -> str:
        """Where it goes, as people read it: the addresses, or the webhook's URL."""
        if self.channel == Channel.WEBHOOK:
            return self.webhook_url or ""
        return ", ".join(self.recipients)


class OutboxAttachment(Base):
    """One file attached to an outgoing e-mail, kept with it until it is sent and after."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    media_type: Mapped[str] = mapped_column(String(255), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
