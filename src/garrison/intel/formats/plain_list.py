"""Plain indicator lists: one value per line, the commonest shape of a blocklist.

blocklist.de, OpenPhish and countless in-house lists are bare values with '#', ';' or '//'
comments. The value is the first field of the line; anything after it (a trailing comment,
a second column) is ignored but kept in `raw`. A plain list says nothing about what its
values are, so events carry no classification: the Source supplies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import each_row, guessed_type
from garrison.intel.formats._feed_text import Line, data_lines, data_rows, head_lines, is_comment
from garrison.intel.normalise import InvalidIndicator, guess_indicator

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SEPARATORS = re.compile(r"[;,]")
SNIFF_LINES = 50
LIKELY = 0.6
UNLIKELY = 0.2


def first_value(text: str) -> tuple[str, str]:
    """The line's value and what follows it. A URL keeps its ';' and ',' (they are legal in
    paths); any other value ends at white space, ';' or ','."""
    parts = text.split(None, 1)
    value = parts[0] if parts else ""
    rest = parts[1].strip() if len(parts) > 1 else ""
    if not _SCHEME.match(value):
        match = _SEPARATORS.search(value)
        if match:
            rest = f"{value[match.start() :]} {rest}".strip()
            value = value[: match.start()]
    return value, rest


def _looks_like_indicator(value: str) -> bool:
    """A URL counts by its shape alone: a list of URLs is a plain list even when some are
    broken (they become row problems when parsed)."""
    if _SCHEME.match(value):
        return True
    try:
        guess_indicator(value)
    except InvalidIndicator:
        return False
    return True


def _single_value(text: str) -> bool:
    """One field only, once trailing comments are set aside."""
    value, rest = first_value(text)
    return bool(value) and (not rest or is_comment(rest))


class PlainList:
    name = "plain"
    title = "Plain list: one indicator per line"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        """Likely only when nearly every line is one value that reads as an indicator, so
        that a feed with its own format always wins over this fallback."""
        lines = data_lines(head_lines(head))[:SNIFF_LINES]
        if not lines:
            return UNLIKELY
        values = [first_value(line)[0] for line in lines if _single_value(line)]
        plausible = sum(1 for value in values if _looks_like_indicator(value))
        return LIKELY if plausible >= 0.9 * len(lines) else UNLIKELY

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, data_rows(document), self._event)

    def _event(self, line: Line) -> list[IntelEvent]:
        value, _ = first_value(line.text)
        kind = guessed_type(value, None)
        return [IntelEvent(kind, value, self.name, line=line.number, raw=line.text)]


FORMAT = PlainList()
