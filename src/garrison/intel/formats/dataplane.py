"""DataPlane.org reports: `ASN | ASname | address | lastseen | category`, one per line.

Each report (sshclient, sshpwauth, telnetlogin, sipquery, dnsrd...) is one behaviour seen
from its sensors, so the category decides the classification.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import (
    FieldError,
    address_type,
    asn,
    each_row,
    feed_time,
    optional,
)
from garrison.intel.formats._feed_text import Line, comment_text, data_lines, data_rows, head_lines

COLUMNS = ("asn", "asname", "ipaddr", "lastseen", "category")
_SCANNER = ("information-gathering", "scanner")
_BRUTE_FORCE = ("intrusion-attempts", "brute-force")
CATEGORIES: dict[str, tuple[tuple[str, str], str]] = {
    # category: (RSIT taxonomy/type, application protocol)
    "dnsrd": (_SCANNER, "dns"),
    "dnsrdany": (_SCANNER, "dns"),
    "dnsversion": (_SCANNER, "dns"),
    "sipquery": (_SCANNER, "sip"),
    "sipinvitation": (_BRUTE_FORCE, "sip"),
    "sipregistration": (_BRUTE_FORCE, "sip"),
    "smtpgreet": (_SCANNER, "smtp"),
    "smtpdata": (("abusive-content", "spam"), "smtp"),
    "sshclient": (_SCANNER, "ssh"),
    "sshpwauth": (_BRUTE_FORCE, "ssh"),
    "telnetlogin": (_BRUTE_FORCE, "telnet"),
    "vncrfb": (_SCANNER, "vnc"),
    # Hosts answering IPv6-in-IPv4 (protocol 41): open tunnel relays.
    "proto41": (("vulnerable", "vulnerable-system"), "ipv6-in-ipv4"),
}
_ROW = re.compile(r"^\s*(\d+|NA)\s*\|[^|]*\|\s*[0-9A-Fa-f.:]+\s*\|")


class DataPlane:
    name = "dataplane"
    title = "DataPlane.org report (ASN | ASname | address | lastseen | category)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        if "dataplane.org" in comment_text(lines).lower():
            return 0.95
        rows = data_lines(lines)[:20]
        if rows and sum(1 for row in rows if _ROW.match(row)) >= 0.9 * len(rows):
            return 0.8
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, data_rows(document), self._event)

    def _event(self, line: Line) -> list[IntelEvent]:
        fields = [field.strip() for field in line.text.split("|")]
        if len(fields) != len(COLUMNS) or not fields[2]:
            raise FieldError(
                None, f"expected {len(COLUMNS)} fields separated by '|' ({' | '.join(COLUMNS)})"
            )
        number, as_name, address, seen, category = fields
        known = CATEGORIES.get(category.lower())
        taxonomy, kind = known[0] if known else (None, None)
        when = feed_time(seen, "lastseen")
        extra = {"category": category}
        if known:
            extra["protocol_application"] = known[1]
        return [
            IntelEvent(
                indicator_type=address_type(address, "ipaddr"),
                value=address,
                feed_name=f"{self.name} {category}".strip(),
                line=line.number,
                time_source=when,
                last_seen=when,
                classification_taxonomy=taxonomy,
                classification_type=kind,
                source_asn=asn(number, "asn"),
                source_as_name=None if as_name.upper() == "NA" else optional(as_name),
                extra=extra,
                raw=line.text,
            )
        ]


FORMAT = DataPlane()
