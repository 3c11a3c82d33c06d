"""abuse.ch Feodo Tracker botnet C2 IP blocklist, in its CSV, JSON and plain-text editions.

Every entry is a command-and-control server of a banking-trojan family (Dridex, Emotet,
QakBot, TrickBot...). The CSV header has been spelt several ways over the years (commented
or not, 'DstIP' or 'dst_ip'); the JSON edition adds the network and country. The port is
the one infected hosts connect to, hence `destination_port`, as in ThreatFox's ip:port.
"""

from __future__ import annotations

from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import Row, address_type, each_row, family, guarded
from garrison.intel.formats._feed_json import json_members, json_opening
from garrison.intel.formats._feed_text import (
    CommentedCsv,
    Line,
    comment_text,
    head_lines,
    header_names,
)

ALIASES = {
    "firstseen": "first_seen_utc",
    "first_seen": "first_seen_utc",
    "dstip": "dst_ip",
    "ip_address": "dst_ip",
    "dstport": "dst_port",
    "port": "dst_port",
    "status": "c2_status",
    "lastonline": "last_online",
}
COLUMNS = ("first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware")
CSV = CommentedCsv(ALIASES, "dst_ip", COLUMNS, single="dst_ip")


class FeodoTracker:
    name = "feodotracker"
    title = "abuse.ch Feodo Tracker botnet C2 IP blocklist (CSV, JSON or plain text)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        if "feodo tracker" in comment_text(lines).lower():
            return 0.95
        start = json_opening(head)
        if start.startswith(b"[") and b'"ip_address"' in start and b'"malware"' in start:
            return 0.9
        if {"dst_ip", "c2_status"} <= header_names(lines):
            return 0.9
        return 0.3 if "feodo" in document.name.lower() else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        if json_opening(document.head(1024)).startswith((b"[", b"{")):
            yield from self._parse_json(document)
            return
        yield from each_row(
            document,
            CSV.records(document),
            lambda record: self._event(Row(record.fields), record.line),
        )

    def _parse_json(self, document: FeedDocument) -> Iterator[ParsedItem]:
        for member in json_members(document):
            if not isinstance(member.value, dict):
                yield document.problem("expected a JSON object for each C2 server", member.line)
                continue
            row = Row(member.value, ALIASES)
            yield from guarded(
                document, member.line, self._event, row, Line(member.line, member.raw)
            )

    def _event(self, row: Row, line: Line) -> list[IntelEvent]:
        address = row.required("dst_ip")
        return [
            IntelEvent(
                indicator_type=address_type(address, row.column("dst_ip")),
                value=address,
                feed_name=self.name,
                line=line.number,
                time_source=row.time("first_seen_utc"),
                last_seen=row.time("last_online"),
                classification_taxonomy="malicious-code",
                classification_type="c2-server",
                malware_name=family(row.text("malware")),
                destination_port=row.port("dst_port"),
                source_asn=row.asn("as_number"),
                source_as_name=row.text("as_name"),
                source_geolocation_cc=row.text("country"),
                extra=row.present("c2_status", "hostname"),
                raw=line.text,
            )
        ]


FORMAT = FeodoTracker()
