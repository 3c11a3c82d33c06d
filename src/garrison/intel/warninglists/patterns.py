"""Regex and substring entries, compiled once.

MISP hands regex entries to PHP's preg_match, so they are PCRE with delimiters and modifiers
('/^(abuse|noc)@/i'); user lists also write bare patterns. Both become Python patterns, with
the few PCRE spellings Python lacks translated; what still does not compile is reported for
that entry alone. Substring entries share one combined pattern that rejects the common case
(no entry occurs) in a single scan.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from garrison.intel.warninglists.lists import WarninglistHit

_DELIMITERS = frozenset("/#~!@%|+;,")
_MODIFIERS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0}
# PCRE's (?<name>…) is Python's (?P<name>…); lookbehinds (?<= and (?<! are left alone.
_PCRE_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")


def _split_delimited(text: str) -> tuple[str, int]:
    """'/body/flags' → (body, re flags); a bare pattern is returned whole."""
    closing = text.rfind(text[0]) if text and text[0] in _DELIMITERS else -1
    modifiers = text[closing + 1 :]
    if closing <= 0 or not (modifiers.isascii() and (modifiers.isalpha() or not modifiers)):
        return text, 0
    flags = 0
    for modifier in modifiers:
        if modifier not in _MODIFIERS:
            raise ValueError(f"unsupported PCRE modifier {modifier!r}")
        flags |= _MODIFIERS[modifier]
    return text[1:closing], flags


def compile_misp_regex(entry: str) -> re.Pattern[str]:
    """A MISP regex entry as a Python pattern; ValueError says why it cannot be used."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty pattern would match every value")
    body, flags = _split_delimited(text)
    try:
        return re.compile(_PCRE_NAMED_GROUP.sub("(?P<", body), flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"does not compile: {exc}") from None


class SubstringTable:
    """Entries that hit when they occur anywhere in a value, compared without case."""

    __slots__ = ("_any", "_table")

    def __init__(self, entries: Iterable[tuple[str, WarninglistHit]]) -> None:
        table: defaultdict[str, list[WarninglistHit]] = defaultdict(list)
        for entry, hit in entries:
            table[entry.lower()].append(hit)
        self._table = {entry: tuple(hits) for entry, hits in table.items()}
        longest_first = sorted(self._table, key=len, reverse=True)
        self._any = re.compile("|".join(map(re.escape, longest_first))) if table else None

    def __bool__(self) -> bool:
        return self._any is not None

    def hits(self, value: str) -> tuple[WarninglistHit, ...]:
        text = value.lower()
        if self._any is None or not self._any.search(text):
            return ()
        # One entry occurs; nested or overlapping ones need the exact per-entry test.
        return tuple(hit for entry, hits in self._table.items() if entry in text for hit in hits)
