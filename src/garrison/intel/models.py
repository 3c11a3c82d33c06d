"""Intel tables: sources, their import runs, indicators and every sighting of them.

An indicator is one row per (type, canonical value); what each source said about it, and
when, is kept as sightings so that provenance survives merging. Indicators are written in
bulk by the import pipeline, so they are not audited row by row: the import run is.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from garrison.core.audit import Audited
from garrison.core.model import Base, Timestamped, UtcDateTime
from garrison.intel.types import IndicatorType, Tlp

TLP_VALUES = ", ".join(f"'{label.value}'" for label in Tlp)
INDICATOR_TYPE_VALUES = ", ".join(f"'{kind.value}'" for kind in IndicatorType)
RELIABILITY_CODES = "ABCDEF"
"""Admiralty scale: A completely reliable … E unreliable, F cannot be judged."""


class Source(Audited, Timestamped, Base):
    """Where indicators come from: a feed pulled on a schedule, or files imported by hand."""

    __tablename__ = "intel_sources"
    __table_args__ = (
        CheckConstraint(f"default_tlp IN ({TLP_VALUES})", name="default_tlp"),
        CheckConstraint("reliability IN ('A', 'B', 'C', 'D', 'E', 'F')", name="reliability"),
    )
    audit_redacted = frozenset({"auth_secret"})
    audit_ignored = frozenset({"etag", "last_modified", "content_sha256", "bookmark",
                               "last_pulled_at"})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    format: Mapped[str] = mapped_column(String(40), nullable=False)
    url: Mapped[str | None] = mapped_column(String(2000))
    pull_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    """None: imported by hand only; otherwise the scheduler pulls it this often."""
    default_tlp: Mapped[str] = mapped_column(String(20), default=Tlp.AMBER.value, nullable=False)
    reliability: Mapped[str] = mapped_column(String(1), default="C", nullable=False)
    default_confidence: Mapped[int] = mapped_column(Integer, default=50, nullable=False)
    default_expiry_days: Mapped[int | None] = mapped_column(Integer)
    default_classification_type: Mapped[str | None] = mapped_column(String(60))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    auth_header: Mapped[str | None] = mapped_column(String(100))
    auth_secret: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    # fetch state, kept between pulls
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    bookmark: Mapped[str | None] = mapped_column(String(100))
    """TAXII added_after bookmark of the last successful poll."""
    last_pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    runs: Mapped[list[ImportRun]] = relationship(
        back_populates="source", order_by="ImportRun.id.desc()", cascade="all, delete-orphan"
    )

    @property
    def tlp(self) -> Tlp:
        return Tlp(self.default_tlp)


class ImportRun(Timestamped, Base):
    """One import of one document into one source, with what it did and every row it refused."""

    __tablename__ = "intel_import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("intel_sources.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="running")
    """running, succeeded, failed, not_modified."""
    file_name: Mapped[str | None] = mapped_column(String(500))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    started_by: Mapped[str | None] = mapped_column(String(80))
    rows_read: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    new_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    updated_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    excluded_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    """Indicators on a warninglist: stored and flagged, but not counted as new or updated."""
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    """The first problems found (file, sheet, row, column, reason); `invalid_count` has all."""

    source: Mapped[Source] = relationship(back_populates="runs")


class Indicator(Timestamped, Base):
    """One observable, in canonical form, merged over every source that reported it."""

    __tablename__ = "intel_indicators"
    __table_args__ = (
        UniqueConstraint("type", "value"),
        CheckConstraint(f"type IN ({INDICATOR_TYPE_VALUES})", name="type"),
        CheckConstraint(f"tlp IN ({TLP_VALUES})", name="tlp"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(
        String(36), nullable=False, unique=True, default=lambda: str(uuid.uuid4())
    )
    type: Mapped[str] = mapped_column(String(12), nullable=False)
    value: Mapped[str] = mapped_column(String(2048), nullable=False)
    first_key: Mapped[str | None] = mapped_column(String(33), index=True)
    """For IPs and CIDRs: the first address as a sortable key (see orgs.addresses)."""
    last_key: Mapped[str | None] = mapped_column(String(33))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    confidence: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    tlp: Mapped[str] = mapped_column(String(20), nullable=False, default=Tlp.AMBER.value)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    malware: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    classification_type: Mapped[str | None] = mapped_column(String(60))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warninglists: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    """Names of the warninglists the value is on; such indicators stay out of notices."""
    source_ids: Mapped[list[int]] = mapped_column(JSON, default=list, nullable=False)
    """Every source that reported it, denormalised from the sightings for lists and exports."""

    sightings: Mapped[list[Sighting]] = relationship(
        back_populates="indicator", order_by="Sighting.id", cascade="all, delete-orphan"
    )

    @property
    def indicator_type(self) -> IndicatorType:
        return IndicatorType(self.type)


class Sighting(Base):
    """What one source said about one indicator at one time: the provenance of a merge."""

    __tablename__ = "intel_sightings"
    __table_args__ = (UniqueConstraint("indicator_id", "source_id", "observed_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("intel_indicators.id", ondelete="CASCADE"), nullable=False
    )
    source_id: Mapped[int] = mapped_column(
        ForeignKey("intel_sources.id", ondelete="CASCADE"), nullable=False, index=True
    )
    import_run_id: Mapped[int] = mapped_column(
        ForeignKey("intel_import_runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    """The run that last wrote this sighting."""
    observed_key: Mapped[str] = mapped_column(String(40), nullable=False)
    """The feed's own time of observation as ISO text, '' when the feed gives none: a
    re-import of the same document finds the same key and changes nothing."""
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    malware_name: Mapped[str | None] = mapped_column(String(120))
    classification_taxonomy: Mapped[str | None] = mapped_column(String(60))
    classification_type: Mapped[str | None] = mapped_column(String(60))
    classification_identifier: Mapped[str | None] = mapped_column(String(200))
    source_asn: Mapped[int | None] = mapped_column(Integer)
    source_as_name: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(120))
    destination_ip: Mapped[str | None] = mapped_column(String(45))
    destination_port: Mapped[int | None] = mapped_column(Integer)
    destination_fqdn: Mapped[str | None] = mapped_column(String(300))
    line: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    """The rest of the harmonised event (IntelMQ field names)."""
    raw: Mapped[str] = mapped_column(Text, nullable=False, default="")

    indicator: Mapped[Indicator] = relationship(back_populates="sightings")
    source: Mapped[Source] = relationship()
