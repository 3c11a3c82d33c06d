"""Attributing what a list reported to the organisations that must act on it.

The department receives a botnet list, imports it, and must tell every organisation which
of its systems are infected — and forward the rest to the operators whose customers they
are. This module decides who gets which row; notices are written from its result.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from garrison.attribution.ownership import Owner, OwnershipIndex
from garrison.core.errors import GarrisonError
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.types import IndicatorType

ADDRESS_TYPES = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})
NETWORK_TYPES = frozenset({IndicatorType.CIDR4, IndicatorType.CIDR6})
NAME_TYPES = frozenset({IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.EMAIL})
UNKNOWN_OPERATOR = "unknown network"


@dataclass(frozen=True)
class AttributionScope:
    """What to attribute: one import run, a source, sightings since a time, or a mix."""

    run_id: int | None = None
    source_name: str | None = None
    since: datetime | None = None

    def describe(self) -> str:
        parts = [
            f"run {self.run_id}" if self.run_id else "",
            f"source {self.source_name}" if self.source_name else "",
            f"since {self.since.date().isoformat()}" if self.since else "",
        ]
        return ", ".join(part for part in parts if part) or "every sighting"


@dataclass
class AttributedItem:
    """One indicator as its owner will see it, merged over the scope's sightings."""

    indicator_id: int
    type: IndicatorType
    value: str
    first_seen: datetime
    last_seen: datetime
    count: int
    malware: set[str] = field(default_factory=set)
    operator: str = UNKNOWN_OPERATOR
    """ISP / ASN from the list's own columns: who to forward it to when nobody owns it."""
    owner: Owner | None = None


@dataclass
class Attribution:
    scope: AttributionScope
    by_organisation: dict[int, list[AttributedItem]] = field(default_factory=dict)
    unattributed: dict[str, list[AttributedItem]] = field(default_factory=dict)
    excluded: Counter[str] = field(default_factory=Counter)
    conflicts: list[AttributedItem] = field(default_factory=list)

    @property
    def attributed_count(self) -> int:
        return sum(len(items) for items in self.by_organisation.values())

    @property
    def unattributed_count(self) -> int:
        return sum(len(items) for items in self.unattributed.values())


def _scoped_sightings(session: Session, scope: AttributionScope) -> Select[Sighting, Indicator]:
    query = select(Sighting, Indicator).join(Indicator, Sighting.indicator_id == Indicator.id)
    if scope.run_id is not None:
        if session.get(ImportRun, scope.run_id) is None:
            raise GarrisonError(f"no import run {scope.run_id}")
        query = query.where(Sighting.import_run_id == scope.run_id)
    if scope.source_name is not None:
        source = session.scalars(select(Source.id).where(Source.name == scope.source_name)).first()
        if source is None:
            raise GarrisonError(f"no intel source named {scope.source_name!r}")
        query = query.where(Sighting.source_id == source)
    if scope.since is not None:
        query = query.where(Sighting.last_seen >= scope.since)
    return query.order_by(Sighting.indicator_id).execution_options(yield_per=10_000)


def _operator(sighting: Sighting) -> str:
    if sighting.source_as_name and sighting.source_asn:
        return f"AS{sighting.source_asn} {sighting.source_as_name}"
    if sighting.source_asn:
        return f"AS{sighting.source_asn}"
    return sighting.source_as_name or UNKNOWN_OPERATOR


def _merged_items(
    rows: Iterable[tuple[Sighting, Indicator]], attribution: Attribution
) -> Iterator[AttributedItem]:
    """One item per indicator; warninglisted and non-public ones counted out on the way."""
    current: AttributedItem | None = None
    for sighting, indicator in rows:
        if current is not None and current.indicator_id == indicator.id:
            current.first_seen = min(current.first_seen, sighting.observed_at or current.first_seen)
            current.last_seen = max(current.last_seen, sighting.last_seen or current.last_seen)
            current.count += sighting.count
            if sighting.malware_name:
                current.malware.add(sighting.malware_name.lower())
            continue
        if current is not None:
            yield current
        current = None
        reason = _exclusion(indicator)
        if reason:
            attribution.excluded[reason] += 1
            continue
        current = AttributedItem(
            indicator.id,
            IndicatorType(indicator.type),
            indicator.value,
            sighting.observed_at or indicator.first_seen,
            sighting.last_seen or indicator.last_seen,
            sighting.count,
            {sighting.malware_name.lower()} if sighting.malware_name else set(),
            _operator(sighting),
        )
    if current is not None:
        yield current


def _exclusion(indicator: Indicator) -> str | None:
    if indicator.warninglists:
        return f"warninglist: {indicator.warninglists[0]}"
    if indicator.type in (
        IndicatorType.IPV4,
        IndicatorType.IPV6,
        IndicatorType.CIDR4,
        IndicatorType.CIDR6,
    ):
        network = ipaddress.ip_network(indicator.value)
        if not network.is_global or network.is_multicast:
            return "private or reserved address range"
    return None


def _host(item: AttributedItem) -> str:
    if item.type is IndicatorType.EMAIL:
        return item.value.rpartition("@")[2]
    if item.type is IndicatorType.URL:
        host = item.value.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        return host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return item.value


def _assign(index: OwnershipIndex, items: list[AttributedItem]) -> None:
    addresses = [item for item in items if item.type in ADDRESS_TYPES]
    for item, owner in zip(
        addresses, index.owners_of_addresses([i.value for i in addresses]), strict=True
    ):
        item.owner = owner
    for item in items:
        if item.type in NETWORK_TYPES:
            item.owner = index.owner_of_network(item.value)
        elif item.type in NAME_TYPES:
            host = _host(item).strip("[]")
            try:
                item.owner = index.owners_of_addresses([ipaddress.ip_address(host).compressed])[0]
            except ValueError:
                item.owner = index.owner_of_domain(host)


def attribute(
    session: Session, scope: AttributionScope, index: OwnershipIndex | None = None
) -> Attribution:
    """Every indicator in scope, given to its owner or grouped by network operator."""
    ownership = index or OwnershipIndex.build(session)
    attribution = Attribution(scope)
    batch: list[AttributedItem] = []
    rows = (
        (sighting, indicator)
        for sighting, indicator in session.execute(_scoped_sightings(session, scope))
    )
    for item in _merged_items(rows, attribution):
        if item.type not in ADDRESS_TYPES | NETWORK_TYPES | NAME_TYPES:
            attribution.excluded[f"{item.type.value}: has no owner by address or name"] += 1
            continue
        batch.append(item)
        if len(batch) >= 50_000:
            _file(attribution, ownership, batch)
            batch = []
    _file(attribution, ownership, batch)
    return attribution


def _file(attribution: Attribution, index: OwnershipIndex, batch: list[AttributedItem]) -> None:
    _assign(index, batch)
    for item in batch:
        if item.owner is None:
            attribution.unattributed.setdefault(item.operator, []).append(item)
            continue
        attribution.by_organisation.setdefault(item.owner.organisation_id, []).append(item)
        if item.owner.conflict_organisation_id is not None:
            attribution.conflicts.append(item)
