"""Merging observations into the indicator store, a batch at a time.

A batch is planned against what is stored (one query per table per batch), then written
through the bulk fast path. Memory stays bounded by the batch size whatever the document's
size; the caller holds the transaction, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, select

from garrison.core.bulk import insert_rows, update_rows
from garrison.core.clock import utc_now
from garrison.core.model import table_of
from garrison.intel.models import Indicator, Sighting
from garrison.intel.normalise import IndicatorKey
from garrison.intel.types import IndicatorType, Tlp
from garrison.orgs.addresses import address_key

LOOKUP_CHUNK = 900
"""Keys per IN (…) query: under SQLite's bound-parameter limit on old builds, too."""


class WarninglistHit(Protocol):
    @property
    def name(self) -> str: ...


class WarninglistChecker(Protocol):
    def hits(self, indicator_type: IndicatorType, value: str) -> Sequence[WarninglistHit]: ...

    def check_addresses(self, values: Sequence[str]) -> Sequence[Sequence[WarninglistHit]]:
        """hits() of many IPs and CIDRs at once: the fast path for botnet lists."""
        ...


@dataclass(slots=True)
class Observation:
    """One normalised event, ready to merge: its indicator's key and its sighting's columns."""

    key: IndicatorKey
    observed_key: str
    first_seen: datetime
    last_seen: datetime
    confidence: int
    tlp: Tlp
    tags: tuple[str, ...]
    malware: str | None
    classification_type: str | None
    expires_at: datetime | None
    sighting: dict[str, Any]
    """Sighting columns other than ids and keys (count, malware_name, raw, details, …)."""


@dataclass
class MergeCounts:
    """Distinct indicators touched by one run, by what happened to them."""

    new: set[int] = field(default_factory=set)
    updated: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)

    @property
    def unchanged(self) -> int:
        return len(self.seen - self.new - self.updated - self.excluded)


def range_keys(key: IndicatorKey) -> tuple[str | None, str | None]:
    """First and last address keys of an IP or CIDR indicator (None for other types)."""
    if not key.type.is_network:
        return None, None
    if key.type is IndicatorType.IPV4:  # canonical dotted quad: no parser needed, by the million
        first, second, third, fourth = map(int, key.value.split("."))
        address = f"4{first << 24 | second << 16 | third << 8 | fourth:032x}"
        return address, address
    network = ipaddress.ip_network(key.value)
    return address_key(network.network_address), address_key(network.broadcast_address)


def _merged_indicator(
    stored: dict[str, Any], group: list[Observation], source_id: int, warninglists: list[str]
) -> dict[str, Any]:
    """The indicator's columns after this batch's observations; the value is as shareable as
    its most open source (TLP), as trusted as its most confident one. One pass over the
    group: this runs for each of a million indicators."""
    first_seen, last_seen = stored["first_seen"], stored["last_seen"]
    confidence, tlp = stored["confidence"], Tlp(stored["tlp"])
    expires_at, classification = stored["expires_at"], stored["classification_type"]
    tags, malware = set(stored["tags"]), set(stored["malware"])
    for observation in group:
        if observation.first_seen < first_seen:
            first_seen = observation.first_seen
        if observation.last_seen > last_seen:
            last_seen = observation.last_seen
        if observation.confidence > confidence:
            confidence = observation.confidence
        if observation.tlp.rank < tlp.rank:
            tlp = observation.tlp
        if observation.expires_at and (expires_at is None or observation.expires_at > expires_at):
            expires_at = observation.expires_at
        if observation.classification_type:
            classification = observation.classification_type
        tags.update(observation.tags)
        if observation.malware:
            malware.add(observation.malware)
    return {
        "first_seen": first_seen,
        "last_seen": last_seen,
        "confidence": confidence,
        "tlp": tlp.value,
        "tags": sorted(tags),
        "malware": sorted(malware),
        "classification_type": classification,
        "expires_at": expires_at,
        "warninglists": warninglists,
        "source_ids": sorted({*stored["source_ids"], source_id}),
    }


_INDICATOR_COLUMNS = (
    "first_seen",
    "last_seen",
    "confidence",
    "tlp",
    "tags",
    "malware",
    "classification_type",
    "expires_at",
    "warninglists",
    "source_ids",
)
_SIGHTING_COMPARED = (
    "observed_at",
    "last_seen",
    "count",
    "malware_name",
    "classification_taxonomy",
    "classification_type",
    "classification_identifier",
    "source_asn",
    "source_as_name",
    "region",
    "destination_ip",
    "destination_port",
    "destination_fqdn",
    "details",
    "raw",
)


class IndicatorStore:
    """Writes observations of one source, in one run, on one connection (one transaction)."""

    def __init__(
        self,
        connection: Connection,
        source_id: int,
        run_id: int,
        warninglists: WarninglistChecker | None = None,
    ) -> None:
        self.connection = connection
        self.source_id = source_id
        self.run_id = run_id
        self.warninglists = warninglists
        self.counts = MergeCounts()
        self._indicators = table_of(Indicator)
        self._sightings = table_of(Sighting)

    def merge(self, batch: Sequence[Observation]) -> None:
        groups: dict[IndicatorKey, list[Observation]] = {}
        for observation in batch:
            groups.setdefault(observation.key, []).append(observation)
        ids, created = self._merge_indicators(groups)
        self._merge_sightings(batch, ids, created)

    def _stored_indicators(self, keys: list[IndicatorKey]) -> dict[IndicatorKey, dict[str, Any]]:
        table = self._indicators
        columns = [
            table.c.id,
            table.c.type,
            table.c.value,
            *(table.c[name] for name in _INDICATOR_COLUMNS),
        ]
        by_type: dict[IndicatorType, list[str]] = {}
        for key in keys:
            by_type.setdefault(key.type, []).append(key.value)
        stored: dict[IndicatorKey, dict[str, Any]] = {}
        for kind, values in by_type.items():
            # type = ? AND value IN (...) searches the (type, value) index; SQLite scans the
            # whole index for a row-value IN.
            for start in range(0, len(values), LOOKUP_CHUNK):
                chunk = values[start : start + LOOKUP_CHUNK]
                query = select(*columns).where(table.c.type == kind.value, table.c.value.in_(chunk))
                for row in self.connection.execute(query).mappings():
                    stored[IndicatorKey(kind, row["value"])] = dict(row)
        return stored

    def _warninglisted(self, keys: list[IndicatorKey]) -> dict[IndicatorKey, list[str]]:
        """Names of the lists each key is on (keys on none are left out)."""
        if self.warninglists is None:
            return {}
        addresses = [key for key in keys if key.type.is_network]
        others = [key for key in keys if not key.type.is_network]
        hits = list(
            zip(
                addresses,
                self.warninglists.check_addresses([k.value for k in addresses]),
                strict=True,
            )
        )
        hits += [(key, self.warninglists.hits(key.type, key.value)) for key in others]
        return {key: sorted({hit.name for hit in found}) for key, found in hits if found}

    def _merge_indicators(
        self, groups: dict[IndicatorKey, list[Observation]]
    ) -> tuple[dict[IndicatorKey, int], set[int]]:
        """Each key's indicator id, and the ids of the indicators this batch created."""
        stored = self._stored_indicators(list(groups))
        creates: list[tuple[IndicatorKey, dict[str, Any]]] = []
        changes: list[tuple[int, dict[str, Any]]] = []
        ids: dict[IndicatorKey, int] = {}
        now = utc_now()
        warninglisted = self._warninglisted(list(groups))
        for key, group in groups.items():
            listed = warninglisted.get(key, [])
            current = stored.get(key)
            if current is None:
                first = group[0]
                blank = {
                    "first_seen": first.first_seen,
                    "last_seen": first.last_seen,
                    "confidence": first.confidence,
                    "tlp": first.tlp.value,
                    "tags": [],
                    "malware": [],
                    "classification_type": None,
                    "expires_at": None,
                    "source_ids": [],
                }
                first_key, last_key = range_keys(key)
                creates.append(
                    (
                        key,
                        {
                            **_merged_indicator(blank, group, self.source_id, listed),
                            "uuid": str(uuid.uuid4()),
                            "type": key.type.value,
                            "value": key.value,
                            "first_key": first_key,
                            "last_key": last_key,
                            "created_at": now,
                            "updated_at": now,
                        },
                    )
                )
                continue
            row_id = current["id"]
            ids[key] = row_id
            merged = _merged_indicator(current, group, self.source_id, listed)
            changed = {name: value for name, value in merged.items() if current[name] != value}
            if changed:
                changes.append((row_id, changed))
                self.counts.updated.add(row_id)
            self._count(row_id, listed)
        new_ids = insert_rows(self.connection, self._indicators, [row for _k, row in creates])
        for (key, row), row_id in zip(creates, new_ids, strict=True):
            ids[key] = row_id
            self.counts.new.add(row_id)
            self._count(row_id, row["warninglists"])
        update_rows(self.connection, self._indicators, changes)
        return ids, set(new_ids)

    def _count(self, row_id: int, listed: list[str]) -> None:
        self.counts.seen.add(row_id)
        if listed:
            self.counts.excluded.add(row_id)

    def _merge_sightings(
        self, batch: Sequence[Observation], ids: dict[IndicatorKey, int], created: set[int]
    ) -> None:
        wanted: dict[tuple[int, str], dict[str, Any]] = {}
        for observation in batch:
            slot = (ids[observation.key], observation.observed_key)
            previous = wanted.get(slot)
            row = observation.sighting
            if previous is not None:
                # the same observation twice in one document: one sighting, counts added
                row = {
                    **row,
                    "count": previous["count"] + row["count"],
                    "raw": previous["raw"],
                    "line": previous["line"],
                }
            wanted[slot] = row
        # An indicator created by this batch has no sightings yet: only the others are looked up.
        stored = self._stored_sightings(
            sorted({indicator for indicator, _ in wanted if indicator not in created})
        )
        creates: list[dict[str, Any]] = []
        changes: list[tuple[int, dict[str, Any]]] = []
        for (indicator_id, observed_key), row in wanted.items():
            current = stored.get((indicator_id, observed_key))
            if current is None:
                creates.append(
                    {
                        **row,
                        "indicator_id": indicator_id,
                        "source_id": self.source_id,
                        "observed_key": observed_key,
                        "import_run_id": self.run_id,
                    }
                )
                self._sighting_changed(indicator_id)
                continue
            if current["import_run_id"] == self.run_id:
                # seen again further down the same document: one sighting, counts added
                row = {**row, "count": current["count"] + row["count"], "raw": current["raw"]}
            changed = {
                name: row[name]
                for name in _SIGHTING_COMPARED
                if name in row and current[name] != row[name]
            }
            if changed:
                changes.append((current["id"], {**changed, "import_run_id": self.run_id}))
                self._sighting_changed(indicator_id)
        insert_rows(self.connection, self._sightings, creates)
        update_rows(self.connection, self._sightings, changes, touch=False)

    def _sighting_changed(self, indicator_id: int) -> None:
        if indicator_id not in self.counts.new:
            self.counts.updated.add(indicator_id)

    def _stored_sightings(self, indicator_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
        table = self._sightings
        columns = [
            table.c.id,
            table.c.indicator_id,
            table.c.observed_key,
            table.c.import_run_id,
            *(table.c[name] for name in _SIGHTING_COMPARED),
        ]
        stored: dict[tuple[int, str], dict[str, Any]] = {}
        for start in range(0, len(indicator_ids), LOOKUP_CHUNK):
            chunk = indicator_ids[start : start + LOOKUP_CHUNK]
            query = select(*columns).where(
                table.c.source_id == self.source_id, table.c.indicator_id.in_(chunk)
            )
            for row in self.connection.execute(query).mappings():
                stored[(row["indicator_id"], row["observed_key"])] = dict(row)
        return stored


def default_expiry(last_seen: datetime, days: int | None) -> datetime | None:
    return last_seen + timedelta(days=days) if days else None
