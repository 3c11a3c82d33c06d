"""Team Cymru CAP (CSIRT Assistance Program) files: `report|ip|asn|timestamp|comments|asn_name`.

The report name says what was seen (bots, bruteforce, phishing, openresolvers...). For bots
the comments hold 'key value' pairs (`srcport 1337 mwtype Conficker destaddr 172.16.0.22`)
followed by free text; for the other reports they are free text (a protocol, a URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import FieldError, Row, address_type, each_row, family
from garrison.intel.formats._feed_text import Line, comment_text, data_rows, head_lines

COLUMNS = ("report", "ip", "asn", "timestamp", "comments", "asn_name")
REPORTS = {
    "bots": ("malicious-code", "infected-system"),
    "bruteforce": ("intrusion-attempts", "brute-force"),
    "darknet": ("information-gathering", "scanner"),
    "scanners": ("information-gathering", "scanner"),
    "ddosreport": ("availability", "ddos"),
    "malwareurl": ("malicious-code", "malware-distribution"),
    "phishing": ("fraud", "phishing"),
    "spam": ("abusive-content", "spam"),
    "openresolvers": ("vulnerable", "vulnerable-system"),
    "proxy": ("vulnerable", "vulnerable-system"),
}
_PAIR = re.compile(r"\b(srcport|dstport|destport|mwtype|destaddr|proto)\s+(\S+)", re.IGNORECASE)


def bot_comments(text: str) -> tuple[dict[str, str], str | None]:
    """'srcport 1337 mwtype Conficker destaddr 172.16.0.22 Some Botnet' → the pairs and the
    free text left over."""
    pairs = {key.lower(): value for key, value in _PAIR.findall(text)}
    rest = " ".join(_PAIR.sub(" ", text).split())
    return pairs, rest or None


class CymruCap:
    name = "cymru-cap"
    title = "Team Cymru CAP report (report|ip|asn|timestamp|comments|asn_name)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        comments = comment_text(head_lines(head)).lower().replace(" ", "")
        if "format:report|ip|asn|timestamp|comments|asn_name" in comments:
            return 0.95
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, data_rows(document), self._event)

    def _event(self, line: Line) -> list[IntelEvent]:
        fields = line.text.split("|")
        if len(fields) != len(COLUMNS):
            raise FieldError(None, f"expected {len(COLUMNS)} fields separated by '|'")
        row = Row(dict(zip(COLUMNS, fields, strict=True)))
        report = (row.text("report") or "").lower()
        taxonomy, kind = REPORTS.get(report, (None, None))
        address = row.required("ip")
        comments = row.text("comments")
        pairs: dict[str, str] = {}
        description = comments
        if report == "bots" and comments:
            pairs, description = bot_comments(comments)
        details = Row(pairs, {"destport": "dstport"})
        return [
            IntelEvent(
                indicator_type=address_type(address, "ip"),
                value=address,
                feed_name=f"{self.name} {report}".strip(),
                line=line.number,
                time_source=row.time("timestamp"),
                classification_taxonomy=taxonomy,
                classification_type=kind,
                classification_identifier=report or None,
                malware_name=family(details.text("mwtype")),
                source_asn=row.asn("asn"),
                source_as_name=row.text("asn_name"),
                source_port=details.port("srcport"),
                destination_ip=details.text("destaddr"),
                destination_port=details.port("dstport"),
                protocol_transport=details.text("proto"),
                description=description,
                raw=line.text,
            )
        ]


FORMAT = CymruCap()
