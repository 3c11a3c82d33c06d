"""Notices: what one organisation is told about one attribution, and each row it must act on.

A notice is the e-mail and the official letter (công văn) sent to one organisation for one
import run; its items are frozen copies of the attributed rows, so that the letter stays what
was sent even when the indicators change later. Items keep a state for the follow-up.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from garrison.core.audit import Audited
from garrison.core.model import Base, Timestamped, UtcDateTime
from garrison.orgs.models import Asset, Organisation

NOTICE_STATUSES = ("draft", "queued", "sent", "held")
"""draft: built, may be rebuilt; queued: handed to the outbox; sent; held: undeliverable."""
ITEM_STATES = ("open",)
"""Follow-up states (acknowledged, cleaned, recurring …) come with the follow-up."""


def _values(options: tuple[str, ...]) -> str:
    return ", ".join(f"'{option}'" for option in options)


class Notice(Audited, Timestamped, Base):
    """One organisation's notice for one run: at most one per (organisation, run)."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("organisation_id", "import_run_id"),
        CheckConstraint(f"status IN ({_values(NOTICE_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    scope: Mapped[str] = mapped_column(String(300), nullable=False)
    """The attribution scope in words (`AttributionScope.describe`)."""
    import_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_import_runs.id", ondelete="SET NULL"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_sources.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(String(60), nullable=False)
    """The letter's number, e.g. "123/SKHCN-CNTT"; editable before sending."""
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    language: Mapped[str] = mapped_column(String(5), nullable=False, default="vi")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    items: Mapped[list[NoticeItem]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="NoticeItem.id"
    )

    def audit_label(self) -> str:
        return self.number


class NoticeItem(Base):
    """One attributed row as the organisation was told it."""

    __tablename__ = "notice_items"
    __table_args__ = (CheckConstraint(f"state IN ({_values(ITEM_STATES)})", name="state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), nullable=False, index=True
    )
    indicator_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="SET NULL"), index=True
    )
    """Kept as a link only: the notice outlives the indicator's expiry."""
    value: Mapped[str] = mapped_column(String(2048), nullable=False)
    type: Mapped[str] = mapped_column(String(12), nullable=False)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    malware: Mapped[str] = mapped_column(Text, nullable=False, default="")
    """Families as the list named them, comma-separated."""
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )
    operator: Mapped[str | None] = mapped_column(String(300))
    """Set on rows forwarded to a telecom operator: the network label the list gave."""
    recommended_action: Mapped[str] = mapped_column(Text, nullable=False, default="")
    state: Mapped[str] = mapped_column(String(20), nullable=False, default="open")

    notice: Mapped[Notice] = relationship(back_populates="items")
    asset: Mapped[Asset | None] = relationship()
