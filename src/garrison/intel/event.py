"""The one event shape every feed parser produces, aligned with IntelMQ's harmonised fields.

A parser reads its format and yields one `IntelEvent` per indicator it finds (a STIX pattern
with three OR-ed comparisons gives three events), or a `RowProblem` for a row it cannot
read. Values are as the feed wrote them; the import pipeline normalises and validates them,
so that "invalid" is counted the same way for every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from garrison.intel.types import IndicatorType, Tlp


@dataclass(slots=True)
class IntelEvent:
    """One indicator seen by one feed, with what the feed said about it."""

    indicator_type: IndicatorType
    value: str
    feed_name: str
    """`feed.name`: the format or report the event came from ('shadowserver event4_sinkhole')."""
    line: int | None = None
    """Line or row number in the source file, for error messages and provenance."""
    sheet: str | None = None
    time_source: datetime | None = None
    """`time.source`: when the feed observed it (first seen, aware UTC)."""
    last_seen: datetime | None = None
    classification_taxonomy: str | None = None
    """RSIT taxonomy, e.g. 'malicious-code', 'vulnerable', 'abusive-content'."""
    classification_type: str | None = None
    """RSIT type, e.g. 'infected-system', 'c2-server', 'phishing', 'vulnerable-system'."""
    classification_identifier: str | None = None
    malware_name: str | None = None
    source_asn: int | None = None
    source_as_name: str | None = None
    """`source.as_name`: the network's operator / ISP as the feed names it."""
    source_geolocation_cc: str | None = None
    source_geolocation_region: str | None = None
    """Province or region (the Vietnamese botnet lists' 'tỉnh/thành')."""
    source_port: int | None = None
    destination_ip: str | None = None
    destination_port: int | None = None
    destination_fqdn: str | None = None
    protocol_transport: str | None = None
    count: int | None = None
    """How many times the feed saw it in its window (the botnet lists' 'số lần')."""
    confidence: int | None = None
    """0-100, when the feed gives one."""
    tlp: Tlp | None = None
    expires_at: datetime | None = None
    tags: tuple[str, ...] = ()
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields the format has and the harmonised set does not (IntelMQ's `extra.*`)."""
    raw: str = ""
    """The row or object exactly as the feed gave it."""

    def harmonised(self) -> dict[str, Any]:
        """IntelMQ-style flat dict with dotted field names; empty fields left out."""
        names = dict(zip(_HARMONISED_NAMES, _harmonised_values(self), strict=True))
        if self.tlp:
            names["tlp"] = self.tlp.value
        names[_OBSERVABLE_FIELD[self.indicator_type]] = self.value
        if self.extra:
            names.update({f"extra.{key}": value for key, value in self.extra.items()})
        return {
            key: value
            for key, value in names.items()
            if value is not None and value != "" and value != ()
        }


_HARMONISED = (
    ("feed.name", "feed_name"),
    ("time.source", "time_source"),
    ("classification.taxonomy", "classification_taxonomy"),
    ("classification.type", "classification_type"),
    ("classification.identifier", "classification_identifier"),
    ("malware.name", "malware_name"),
    ("source.asn", "source_asn"),
    ("source.as_name", "source_as_name"),
    ("source.geolocation.cc", "source_geolocation_cc"),
    ("source.geolocation.region", "source_geolocation_region"),
    ("source.port", "source_port"),
    ("destination.ip", "destination_ip"),
    ("destination.port", "destination_port"),
    ("destination.fqdn", "destination_fqdn"),
    ("protocol.transport", "protocol_transport"),
    ("event_description.text", "description"),
    ("tlp", "tlp"),
    ("raw", "raw"),
)
"""Harmonised name → attribute, in the order the dict lists them; read with one attrgetter,
since a botnet list harmonises a million events."""
_HARMONISED_NAMES = tuple(name for name, _attribute in _HARMONISED)
_harmonised_values = attrgetter(*(attribute for _name, attribute in _HARMONISED))
_OBSERVABLE_FIELD = {
    IndicatorType.IPV4: "source.ip",
    IndicatorType.IPV6: "source.ip",
    IndicatorType.CIDR4: "source.network",
    IndicatorType.CIDR6: "source.network",
    IndicatorType.DOMAIN: "source.fqdn",
    IndicatorType.URL: "source.url",
    IndicatorType.EMAIL: "source.account",
    IndicatorType.MD5: "malware.hash.md5",
    IndicatorType.SHA1: "malware.hash.sha1",
    IndicatorType.SHA256: "malware.hash.sha256",
    IndicatorType.FILENAME: "malware.filename",
    IndicatorType.PHONE: "source.phone",
    IndicatorType.ASN: "source.asn",
    IndicatorType.BRANDNAME: "source.brandname",
}
