"""Spamhaus DROP, EDROP, DROPv6 and ASN-DROP, in the text and the JSON-lines editions.

Text: `1.4.0.0/17 ; SBL256893` or `AS64496 ; US | EXAMPLE-AS` under a ';' comment header that
names the list and its Last-Modified time. JSON lines: `{"cidr": ..., "sblid": ..., "rir": ...}`
or `{"asn": ..., "asname": ..., ...}`, ending in one `{"type": "metadata", "timestamp": ...}`.

Classification: DROP lists netblocks and networks hijacked or run by criminals, not one kind
of activity. RSIT has no type for that; IntelMQ's mapping of such lists is other/blacklist,
used here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from garrison.core.errors import RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import (
    FieldError,
    Row,
    address_type,
    feed_time,
    guarded,
    guessed_type,
    optional,
)
from garrison.intel.formats._feed_json import json_lines
from garrison.intel.formats._feed_text import Line, comment_text, data_lines, head_lines, read_lines
from garrison.intel.types import NETWORK_TYPES, IndicatorType

TAXONOMY = ("other", "blacklist")
_TEXT_ROW = re.compile(r"^\S+\s*;\s*SBL\d+\s*$", re.IGNORECASE)
_ASN_ROW = re.compile(r"^AS\d+\s*;\s*[A-Z]{0,2}\s*\|", re.IGNORECASE)
_ASN_VALUE = re.compile(r"^AS\d", re.IGNORECASE)
_LIST_NAME = re.compile(r"Spamhaus\s+(?P<name>[\w-]+)\s+List", re.IGNORECASE)
_LAST_MODIFIED = re.compile(r"^;\s*Last-Modified:\s*(?P<time>.+)$", re.IGNORECASE)
_TAIL_BYTES = 4096


def _json_record(text: str) -> dict[str, Any] | None:
    try:
        value = json_lines(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _metadata_time(document: FeedDocument) -> datetime | None:
    """The JSON editions put the list's time on their last line; it is read first so that
    every event carries it."""
    try:
        with document.path.open("rb") as stream:
            stream.seek(0, 2)
            stream.seek(max(0, stream.tell() - _TAIL_BYTES))
            tail = stream.read().decode("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return None
    record = _json_record(tail[-1]) if tail else None
    if not record or record.get("type") != "metadata":
        return None
    try:
        return feed_time(record.get("timestamp"), "timestamp")
    except FieldError:
        return None


class _ListState:
    """What the comment header said: which list, and when it was made."""

    def __init__(self, listed_at: datetime | None) -> None:
        self.name: str | None = None
        self.listed_at = listed_at

    def read_comment(self, text: str) -> None:
        name = _LIST_NAME.search(text)
        if name and self.name is None:
            self.name = name.group("name").lower()
        modified = _LAST_MODIFIED.match(text)
        if modified:
            with contextlib.suppress(FieldError):
                self.listed_at = feed_time(modified.group("time"), None)

    def feed_name(self, kind: IndicatorType) -> str:
        default = "asn-drop" if kind is IndicatorType.ASN else "drop"
        return f"spamhaus {self.name or default}"


class SpamhausDrop:
    name = "spamhaus-drop"
    title = "Spamhaus DROP / EDROP / DROPv6 / ASN-DROP (text or JSON lines)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        comments = comment_text(lines).lower()
        if "spamhaus" in comments and "drop" in comments:
            return 0.95
        rows = data_lines(lines)[:20]
        if not rows:
            return 0.0
        first = _json_record(rows[0])
        if first is not None and ("sblid" in first or {"asn", "asname"} <= first.keys()):
            return 0.9
        if sum(1 for row in rows if _TEXT_ROW.match(row) or _ASN_ROW.match(row)) >= 0.9 * len(rows):
            return 0.85
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        state = _ListState(_metadata_time(document))
        for item in read_lines(document):
            if isinstance(item, RowProblem):
                yield item
                continue
            text = item.text.strip()
            if text.startswith(";"):
                state.read_comment(text)
            elif text.startswith("{"):
                yield from self._json(document, item, state)
            elif text:
                yield from guarded(document, item.number, self._text_event, item, state)

    def _json(self, document: FeedDocument, line: Line, state: _ListState) -> Iterator[ParsedItem]:
        record = _json_record(line.text)
        if record is None:
            yield document.problem("not a JSON object", line.number)
        elif record.get("type") != "metadata":
            yield from guarded(document, line.number, self._json_event, Row(record), line, state)

    def _event(
        self, kind: IndicatorType, value: str, line: Line, state: _ListState, **fields: Any
    ) -> IntelEvent:
        return IntelEvent(
            indicator_type=kind,
            value=value,
            feed_name=state.feed_name(kind),
            line=line.number,
            time_source=state.listed_at,
            classification_taxonomy=TAXONOMY[0],
            classification_type=TAXONOMY[1],
            raw=line.text,
            **fields,
        )

    def _text_event(self, line: Line, state: _ListState) -> list[IntelEvent]:
        value, _, comment = (part.strip() for part in line.text.partition(";"))
        if _ASN_VALUE.match(value):
            country, _, as_name = (part.strip() for part in comment.partition("|"))
            number = Row({"asn": value}).asn("asn")
            return [
                self._event(
                    IndicatorType.ASN,
                    value,
                    line,
                    state,
                    source_asn=number,
                    source_as_name=optional(as_name),
                    source_geolocation_cc=optional(country),
                )
            ]
        extra = {"sblid": comment} if optional(comment) else {}
        kind = guessed_type(value, None, NETWORK_TYPES)
        return [self._event(kind, value, line, state, extra=extra)]

    def _json_event(self, row: Row, line: Line, state: _ListState) -> list[IntelEvent]:
        if row.text("cidr") is not None:
            value = row.required("cidr")
            kind = address_type(value, "cidr")
            return [self._event(kind, value, line, state, extra=row.present("sblid", "rir"))]
        number = row.asn("asn")
        if number is None:
            raise FieldError(None, "the record has neither 'cidr' nor 'asn'")
        return [
            self._event(
                IndicatorType.ASN,
                f"AS{number}",
                line,
                state,
                source_asn=number,
                source_as_name=row.text("asname"),
                source_geolocation_cc=row.text("cc"),
                extra=row.present("domain", "rir"),
            )
        ]


FORMAT = SpamhausDrop()
