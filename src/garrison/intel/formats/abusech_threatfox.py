"""abuse.ch ThreatFox IOC exports: the CSV dump and the JSON dump (or an API answer).

ThreatFox says what each IOC is (`ioc_type`) and what it does (`threat_type`), so both the
indicator type and the classification come from the feed, not from guessing. The JSON dump
is one object keyed by IOC id, read member by member so the full export stays in bounds.
"""

from __future__ import annotations

from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import (
    FieldError,
    Row,
    address_type,
    each_row,
    family,
    guarded,
)
from garrison.intel.formats._feed_json import json_members, json_opening
from garrison.intel.formats._feed_text import (
    CommentedCsv,
    Line,
    comment_text,
    head_lines,
    header_names,
)
from garrison.intel.types import IndicatorType

COLUMNS = (
    "first_seen_utc",
    "ioc_id",
    "ioc_value",
    "ioc_type",
    "threat_type",
    "fk_malware",
    "malware_alias",
    "malware_printable",
    "last_seen_utc",
    "confidence_level",
    "reference",
    "tags",
    "anonymous",
    "reporter",
)
JSON_ALIASES = {
    "ioc": "ioc_value",
    "id": "ioc_id",
    "malware": "fk_malware",
    "first_seen": "first_seen_utc",
    "last_seen": "last_seen_utc",
}
CSV = CommentedCsv({}, "ioc_value", COLUMNS)
IOC_TYPES = {
    "domain": IndicatorType.DOMAIN,
    "url": IndicatorType.URL,
    "md5_hash": IndicatorType.MD5,
    "sha1_hash": IndicatorType.SHA1,
    "sha256_hash": IndicatorType.SHA256,
}
THREAT_TYPES = {
    "botnet_cc": ("malicious-code", "c2-server"),
    "payload_delivery": ("malicious-code", "malware-distribution"),
    # A sample's hash: RSIT has no type for the malware itself; IntelMQ's 'malware' is it.
    "payload": ("malicious-code", "malware"),
}
_EXTRA = (
    "ioc_id",
    "threat_type",
    "fk_malware",
    "malware_alias",
    "reference",
    "reporter",
    "is_compromised",
)


def _split_ip_port(value: str, column: str) -> tuple[str, int | None]:
    """'192.0.2.1:443' or '[2001:db8::1]:443' → address and port. Some entries typed ip:port
    carry the bare address; they keep it, without a port."""
    if value.startswith("["):
        address, _, rest = value[1:].partition("]")
        number = rest.removeprefix(":")
    elif value.count(":") == 1:
        address, _, number = value.partition(":")
    else:
        address, number = value, ""
    if number and (not number.isdigit() or int(number) > 65535):
        raise FieldError(column, f"{value!r} is not an ip:port value")
    return address, int(number) if number else None


def _confidence(row: Row) -> int | None:
    text = row.text("confidence_level")
    if text is None:
        return None
    if not text.isdigit() or int(text) > 100:
        raise FieldError(row.column("confidence_level"), f"{text!r} is not a 0-100 confidence")
    return int(text)


def _malware(row: Row) -> str | None:
    malpedia = (row.text("fk_malware") or "").lower()
    printable = row.text("malware_printable")
    if malpedia == "unknown" or (printable or "").lower().startswith("unknown"):
        return None
    return family(printable) or family(malpedia)


class ThreatFox:
    name = "threatfox"
    title = "abuse.ch ThreatFox IOC export (CSV or JSON)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        if "threatfox" in comment_text(lines).lower():
            return 0.95
        start = json_opening(head)
        if start.startswith((b"{", b"[")) and b'"ioc_type"' in start and b'"threat_type"' in start:
            return 0.9
        if {"ioc_value", "ioc_type"} <= header_names(lines):
            return 0.9
        return 0.3 if "threatfox" in document.name.lower() else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        if json_opening(document.head(1024)).startswith((b"{", b"[")):
            yield from self._parse_json(document)
            return
        yield from each_row(
            document,
            CSV.records(document),
            lambda record: self._event(Row(record.fields), record.line),
        )

    def _parse_json(self, document: FeedDocument) -> Iterator[ParsedItem]:
        """The dump ({id: [ioc]}), an API answer ({"data": [ioc]}) or a bare list of IOCs."""
        for member in json_members(document):
            if member.key is not None and not isinstance(member.value, list):
                continue  # an API answer's "query_status" and the like
            entries = member.value if isinstance(member.value, list) else [member.value]
            line = Line(member.line, member.raw)
            for entry in entries:
                if not isinstance(entry, dict):
                    yield document.problem("expected a JSON object for each IOC", member.line)
                    continue
                row = Row(entry, JSON_ALIASES)
                if member.key is not None and member.key.isdigit():
                    row.values.setdefault("ioc_id", member.key)
                yield from guarded(document, member.line, self._event, row, line)

    def _event(self, row: Row, line: Line) -> list[IntelEvent]:
        value = row.required("ioc_value")
        ioc_type = (row.text("ioc_type") or "").lower()
        destination_port = None
        if ioc_type == "ip:port":
            value, destination_port = _split_ip_port(value, row.column("ioc_value"))
            kind = address_type(value, row.column("ioc_value"))
        elif ioc_type in IOC_TYPES:
            kind = IOC_TYPES[ioc_type]
        else:
            raise FieldError(row.column("ioc_type"), f"unsupported IOC type {ioc_type!r}")
        taxonomy, classification = THREAT_TYPES.get(
            (row.text("threat_type") or "").lower(), (None, None)
        )
        return [
            IntelEvent(
                indicator_type=kind,
                value=value,
                feed_name=self.name,
                line=line.number,
                time_source=row.time("first_seen_utc"),
                last_seen=row.time("last_seen_utc"),
                classification_taxonomy=taxonomy,
                classification_type=classification,
                malware_name=_malware(row),
                destination_port=destination_port,
                confidence=_confidence(row),
                tags=row.tags("tags"),
                extra=row.present(*_EXTRA),
                raw=line.text,
            )
        ]


FORMAT = ThreatFox()
