"""Registry tables. Organisation kinds are rows, not code: institutions change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from garrison.core.audit import Audited
from garrison.core.model import Base, Timestamped


class OrganisationKind(Base):
    __tablename__ = "organisation_kinds"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=100, nullable=False)


class Organisation(Audited, Timestamped, Base):
    __tablename__ = "organisations"
    # Lists sort organisations by name without case: this index serves that order (and the
    # asset list's default order by owner), so a page needs no sort of every row.
    __table_args__ = (Index("ix_organisations_name_folded", func.lower(text("name")), "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    short_name: Mapped[str | None] = mapped_column(String(60), unique=True)
    kind_code: Mapped[str] = mapped_column(
        ForeignKey("organisation_kinds.code"), nullable=False, index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)

    kind: Mapped[OrganisationKind] = relationship(lazy="joined")
    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Contact.name"
    )
    networks: Mapped[list[Network]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Network.first_key"
    )
    domains: Mapped[list[Domain]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Domain.name"
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Asset.name"
    )


class Contact(Audited, Timestamped, Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phones: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    language: Mapped[str] = mapped_column(String(5), default="vi", nullable=False)

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class Network(Audited, Timestamped, Base):
    """An address range an organisation owns; overlaps are allowed, the most specific wins."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cidr: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    prefix_length: Mapped[int] = mapped_column(Integer, nullable=False)
    first_key: Mapped[str] = mapped_column(String(33), nullable=False, index=True)
    last_key: Mapped[str] = mapped_column(String(33), nullable=False, index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    description: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(back_populates="networks")

    def audit_label(self) -> str:
        return self.cidr


class Domain(Audited, Timestamped, Base):
    """A registered domain; every subdomain belongs to the same organisation."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(253), nullable=False, unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )

    organisation: Mapped[Organisation] = relationship(back_populates="domains")


class Asset(Audited, Timestamped, Base):
    """A host or information system; security level per Decree 85/2016 (1 lowest, 5 highest)."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        CheckConstraint("security_level BETWEEN 1 AND 5", name="security_level_range"),
        Index("ix_assets_name_folded", func.lower(text("name"))),  # the list sorted by name
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str | None] = mapped_column(String(60))
    hostnames: Mapped[list[str]] = mapped_column(JSON, default=list, nullable=False)
    operating_system: Mapped[str | None] = mapped_column(String(200))
    security_level: Mapped[int | None] = mapped_column(Integer)
    level_approved_on: Mapped[date | None] = mapped_column(Date)
    internet_facing: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(back_populates="assets")
    addresses: Mapped[list[AssetAddress]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="AssetAddress.key"
    )
    components: Mapped[list[Component]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="Component.ref"
    )


class AssetAddress(Base):
    """One IP address of an asset, keyed for range look-ups."""

    __tablename__ = "asset_addresses"
    __table_args__ = (UniqueConstraint("asset_id", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(45), nullable=False)
    key: Mapped[str] = mapped_column(String(33), nullable=False, index=True)

    asset: Mapped[Asset] = relationship(back_populates="addresses")


class Component(Audited, Timestamped, Base):
    """Software on an asset, named by CPE 2.3, by purl, or by vendor/product/version."""

    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("asset_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ref: Mapped[str] = mapped_column(String(500), nullable=False)
    cpe: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(500))
    vendor: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(100))

    asset: Mapped[Asset] = relationship(back_populates="components")

    def audit_label(self) -> str:
        return self.ref
