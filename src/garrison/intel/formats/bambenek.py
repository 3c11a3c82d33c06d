"""Bambenek Consulting OSINT C2 feeds: `value,description,time,manual URL`.

The IP and domain master lists name command-and-control servers ("IP used by
shiotob/urlzone/bebloh C&C"); the DGA feed names generated C2 domains. The family is written
with its aliases separated by '/', and the manual page is named after the canonical one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import (
    FieldError,
    each_row,
    feed_time,
    guessed_type,
    optional,
)
from garrison.intel.formats._feed_text import Line, comment_text, data_rows, head_lines, split_csv
from garrison.intel.types import IndicatorType

COLUMNS = ("value", "description", "time", "manual")
_FAMILY = re.compile(r"used by (?P<family>.+?)(?:\s+C&C\b|\s+DGA\b|$)", re.IGNORECASE)
_DGA = re.compile(r"\bDGA\b")
_ALLOWED = frozenset({IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.DOMAIN})


def families(description: str, manual: str | None) -> tuple[str | None, list[str]]:
    """The family and its aliases; the manual page's name picks the canonical one."""
    match = _FAMILY.search(description)
    if not match:
        return None, []
    names = [
        part.strip().lower() for part in re.split(r"/| - ", match.group("family")) if part.strip()
    ]
    page = PurePosixPath(urlsplit(manual).path).stem.lower() if manual else ""
    if page in names:
        return page, names
    return (names[0] if names else None), names


class Bambenek:
    name = "bambenek"
    title = "Bambenek Consulting C2 master lists and DGA feed"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        comments = comment_text(head_lines(head)).lower()
        if "bambenek" in comments:
            return 0.95
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, data_rows(document), self._event)

    def _event(self, line: Line) -> list[IntelEvent]:
        fields = split_csv(line.text)
        if len(fields) != len(COLUMNS):
            raise FieldError(None, f"expected {len(COLUMNS)} fields ({', '.join(COLUMNS)})")
        value, description, seen, manual = fields
        malware, aliases = families(description, optional(manual))
        extra: dict[str, object] = {}
        if manual:
            extra["reference"] = manual
        if len(aliases) > 1:
            extra["malware_aliases"] = aliases
        return [
            IntelEvent(
                indicator_type=guessed_type(value, "value", _ALLOWED),
                value=value,
                feed_name=self.name,
                line=line.number,
                time_source=feed_time(seen, "time"),
                classification_taxonomy="malicious-code",
                classification_type="c2-server",
                classification_identifier="dga" if _DGA.search(description) else None,
                malware_name=malware,
                description=optional(description),
                extra=extra,
                raw=line.text,
            )
        ]


FORMAT = Bambenek()
