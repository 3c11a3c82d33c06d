"""Hostname entries: an entry matches itself and every subdomain of it.

Lookups walk the value's label suffixes ('a.b.bit.ly', 'b.bit.ly', 'bit.ly', 'ly') through
one hashed table, so a value costs a handful of dictionary probes whatever the list size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import idna

from garrison.intel.warninglists.lists import WarninglistHit

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


def hostname_key(entry: str) -> str:
    """The lower-case ASCII (punycode) form of an entry, without the leading '.' or '*.'
    that some lists write to say "and subdomains"; ValueError says why it is not a host."""
    value = entry.strip().lower().rstrip(".")
    while value.startswith(("*.", ".")):
        value = value.removeprefix("*").removeprefix(".")
    if not value.isascii():
        try:
            value = idna.encode(value, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"not a valid internationalised host name: {exc}") from None
    if not _HOSTNAME.fullmatch(value) or len(value) > 253:
        raise ValueError("not a host name (letters, digits, '-' and '_' in dot-separated labels)")
    return value


class HostnameTable:
    """Host names (already keyed with `hostname_key`) and the hits they carry."""

    __slots__ = ("_table",)

    def __init__(self, entries: Iterable[tuple[str, WarninglistHit]]) -> None:
        table: defaultdict[str, list[WarninglistHit]] = defaultdict(list)
        for key, hit in entries:
            table[key].append(hit)
        self._table = {key: tuple(hits) for key, hits in table.items()}

    def __bool__(self) -> bool:
        return bool(self._table)

    def hits(self, host: str) -> tuple[WarninglistHit, ...]:
        candidate = host.lower().rstrip(".")
        found: list[WarninglistHit] = []
        while candidate:
            found.extend(self._table.get(candidate, ()))
            candidate = candidate.partition(".")[2]
        return tuple(found)
