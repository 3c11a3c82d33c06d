"""DShield.org (SANS ISC) lists: the recommended block list and the suspicious domain lists.

`block.txt` is tab-separated: network start, end, prefix length, number of targets that
reported scans from it, network name, country, abuse contact. Its 'attacks' are scan reports
from DShield sensors, so it is classified information-gathering/scanner (not intrusion
attempts: a report is a connection attempt, not a proven login or exploit try).

`suspiciousdomains_{High,Medium,Low}.txt` is one domain per line under a 'Site' header; the
list mixes malware, phishing and other sources, so its entries are other/blacklist with the
sensitivity level kept in `extra`. Both lists give their generation time in the header.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime

from garrison.core.errors import RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import (
    FieldError,
    address_type,
    count,
    feed_time,
    guarded,
    optional,
)
from garrison.intel.formats._feed_text import Line, comment_text, head_lines, is_comment, read_lines
from garrison.intel.types import IndicatorType

BLOCK_COLUMNS = ("start", "end", "netblock", "attacks", "name", "country", "email")
BLOCK_HEADER = "\t".join(BLOCK_COLUMNS)
HEADER_ROWS = frozenset({BLOCK_HEADER, "site"})
_UPDATED = re.compile(r"^#\s*updated:\s*(?P<time>.+?)\s*$", re.IGNORECASE)
_SENSITIVITY = re.compile(r"(High|Medium|Low)\s+Level\s+Sensitivity", re.IGNORECASE)
_FILE_SENSITIVITY = re.compile(r"suspiciousdomains_(high|medium|low)", re.IGNORECASE)


class _ListState:
    def __init__(self, document: FeedDocument) -> None:
        self.updated: datetime | None = None
        match = _FILE_SENSITIVITY.search(document.name)
        self.sensitivity = match.group(1).lower() if match else None

    def read_comment(self, text: str) -> None:
        updated = _UPDATED.match(text)
        if updated and self.updated is None:
            with contextlib.suppress(FieldError):
                self.updated = feed_time(updated.group("time"), None)
        level = _SENSITIVITY.search(text)
        if level:
            self.sensitivity = level.group(1).lower()


class DShield:
    name = "dshield"
    title = "DShield.org block list and suspicious domain lists"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        if "dshield.org" in comment_text(lines).lower():
            return 0.95
        if any(line.strip().lower() == BLOCK_HEADER for line in lines[:60]):
            return 0.9
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        state = _ListState(document)
        for item in read_lines(document):
            if isinstance(item, RowProblem):
                yield item
                continue
            text = item.text.strip()
            if is_comment(text):
                state.read_comment(text)
            elif text and text.lower() not in HEADER_ROWS:
                yield from guarded(document, item.number, self._event, item, state)

    def _event(self, line: Line, state: _ListState) -> list[IntelEvent]:
        fields = [field.strip() for field in line.text.split("\t")]
        if len(fields) >= 3:
            return [self._block(fields, line, state)]
        value = fields[0]
        if not value:
            raise FieldError("Site", "the domain is empty")
        return [
            IntelEvent(
                indicator_type=IndicatorType.DOMAIN,
                value=value,
                feed_name=f"{self.name} suspicious domains",
                line=line.number,
                time_source=state.updated,
                classification_taxonomy="other",
                classification_type="blacklist",
                extra={"sensitivity": state.sensitivity} if state.sensitivity else {},
                raw=line.text,
            )
        ]

    def _block(self, fields: list[str], line: Line, state: _ListState) -> IntelEvent:
        if len(fields) > len(BLOCK_COLUMNS):
            raise FieldError(None, f"expected at most {len(BLOCK_COLUMNS)} tab-separated fields")
        values = dict(zip(BLOCK_COLUMNS, fields, strict=False))
        start, prefix = values["start"], values["netblock"]
        if not start:
            raise FieldError("Start", "the network start is empty")
        if not prefix.isdigit():
            raise FieldError("Netblock", f"{prefix!r} is not a prefix length")
        network = f"{start}/{prefix}"
        extra = {
            key: text
            for key, text in (
                ("end", optional(values.get("end"))),
                ("network_name", optional(values.get("name"))),
                ("abuse_contact", optional(values.get("email"))),
            )
            if text
        }
        return IntelEvent(
            indicator_type=address_type(network, "Start"),
            value=network,
            feed_name=f"{self.name} block",
            line=line.number,
            time_source=state.updated,
            classification_taxonomy="information-gathering",
            classification_type="scanner",
            source_geolocation_cc=optional(values.get("country")),
            count=count(values.get("attacks"), "Attacks"),
            extra=extra,
            raw=line.text,
        )


FORMAT = DShield()
