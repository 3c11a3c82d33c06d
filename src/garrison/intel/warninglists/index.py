"""Every loaded warninglist compiled once into one immutable index of fast matchers.

Each indicator type gets the matchers of the lists whose `matching_attributes` apply to it:
a hashed set for `string`, one combined pattern for `substring`, a label-suffix table for
`hostname`, compiled patterns for `regex` and merged integer intervals for `cidr`. Matchers
built from the same lists are shared between types (the IPv4, IPv6 and CIDR types all use
the one interval index of the address lists).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import numpy as np

from garrison.core.errors import RowProblem
from garrison.intel.types import IndicatorType
from garrison.intel.warninglists.hostnames import HostnameTable, hostname_key
from garrison.intel.warninglists.lists import (
    MatchType,
    Warninglist,
    WarninglistHit,
    load_warninglists,
)
from garrison.intel.warninglists.networks import (
    NOT_IPV4,
    AddressIntervals,
    AddressRange,
    Hits,
    ipv4_integers,
    parse_address_range,
    parse_address_ranges,
)
from garrison.intel.warninglists.patterns import SubstringTable, compile_misp_regex

_HOST_TYPES = frozenset({IndicatorType.DOMAIN, IndicatorType.URL, IndicatorType.EMAIL})
_ADDRESS_TYPES = frozenset(
    {
        IndicatorType.IPV4,
        IndicatorType.IPV6,
        IndicatorType.CIDR4,
        IndicatorType.CIDR6,
        IndicatorType.URL,
    }
)
# Exact `string` entries are compared without case except where case carries meaning.
_CASED_TYPES = frozenset({IndicatorType.URL, IndicatorType.FILENAME})
# Characters of canonical addresses and networks: a substring entry with any other character
# can never occur in one, so address lists ('domain|ip' lists) skip it and the bulk check
# keeps its vectorised path.
_IPV4_TEXT = frozenset("0123456789./")
_IPV6_TEXT = frozenset("0123456789abcdef:./")
_ALPHABETS = {
    IndicatorType.IPV4: _IPV4_TEXT,
    IndicatorType.CIDR4: _IPV4_TEXT,
    IndicatorType.IPV6: _IPV6_TEXT,
    IndicatorType.CIDR6: _IPV6_TEXT,
}


@dataclass
class _Entries:
    """One list's usable entries in matcher form; unusable ones became problems."""

    strings: list[tuple[str, WarninglistHit]] = field(default_factory=list)
    substrings: list[tuple[str, WarninglistHit]] = field(default_factory=list)
    hostnames: list[tuple[str, WarninglistHit]] = field(default_factory=list)
    regexes: list[tuple[re.Pattern[str], WarninglistHit]] = field(default_factory=list)
    ipv4: list[tuple[int, int, WarninglistHit]] = field(default_factory=list)
    ipv6: list[tuple[int, int, WarninglistHit]] = field(default_factory=list)


_PREPARE: dict[MatchType, tuple[str, Callable[[str], Any]]] = {
    MatchType.STRING: ("strings", str.strip),
    MatchType.SUBSTRING: ("substrings", str),
    MatchType.HOSTNAME: ("hostnames", hostname_key),
    MatchType.REGEX: ("regexes", compile_misp_regex),
}


def _entry_problem(warninglist: Warninglist, position: int, entry: str, why: str) -> RowProblem:
    reason = f"entry {entry!r} of {warninglist.type} list {warninglist.name!r}: {why}"
    source = warninglist.source or warninglist.name
    return RowProblem(source, f"{reason}; entry ignored", None, position, "list")


def _prepare(warninglist: Warninglist, problems: list[RowProblem]) -> _Entries:
    """Each entry converted for its matcher; a bad entry is a problem for that entry only."""
    entries = _Entries()
    if warninglist.type is MatchType.CIDR:
        _prepare_ranges(warninglist, entries, problems)
        return entries
    component, convert = _PREPARE[warninglist.type]
    target: list[tuple[Any, WarninglistHit]] = getattr(entries, component)
    for position, entry in enumerate(warninglist.entries, start=1):
        try:
            if not entry.strip():
                raise ValueError("an empty entry")
            key = convert(entry)
        except ValueError as exc:
            problems.append(_entry_problem(warninglist, position, entry, str(exc)))
            continue
        target.append((key, WarninglistHit.of(warninglist, entry)))
    return entries


def _prepare_ranges(
    warninglist: Warninglist, entries: _Entries, problems: list[RowProblem]
) -> None:
    """Cidr entries as (first, last, hit) per family, parsed in one batch."""
    name, version, category = warninglist.name, warninglist.version, warninglist.category
    addresses = parse_address_ranges(warninglist.entries)
    pairs = zip(warninglist.entries, addresses, strict=True)
    for position, (entry, address) in enumerate(pairs, start=1):
        if address is None:
            why = "not an IPv4 or IPv6 address or network"
            problems.append(_entry_problem(warninglist, position, entry, why))
            continue
        family = entries.ipv4 if address.version == 4 else entries.ipv6
        family.append((address.first, address.last, WarninglistHit(name, version, category, entry)))


@dataclass(frozen=True)
class _Matchers:
    """Everything one indicator type is tested against."""

    strings: Mapping[str, Hits]
    caseless: bool
    substrings: SubstringTable
    regexes: tuple[tuple[re.Pattern[str], WarninglistHit], ...]
    hostnames: HostnameTable
    ipv4: AddressIntervals
    ipv6: AddressIntervals

    def text_hits(self, value: str) -> list[WarninglistHit]:
        """Hits of the string, substring and regex lists."""
        found = list(self.strings.get(value.lower() if self.caseless else value, ()))
        if self.substrings:
            found.extend(self.substrings.hits(value))
        found.extend(hit for pattern, hit in self.regexes if pattern.search(value))
        return found

    @property
    def has_text_lists(self) -> bool:
        return bool(self.strings or self.substrings or self.regexes)


def _ordered(hits: Iterable[WarninglistHit]) -> Hits:
    return tuple(sorted(set(hits)))


def _url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def _address_type(address: AddressRange) -> IndicatorType:
    single = address.first == address.last
    if address.version == 4:
        return IndicatorType.IPV4 if single else IndicatorType.CIDR4
    return IndicatorType.IPV6 if single else IndicatorType.CIDR6


T = TypeVar("T")


class _Builder:
    """Builds each matcher once per distinct set of lists that feed it."""

    def __init__(self, entries: Mapping[str, _Entries]) -> None:
        self._entries = entries
        self._built: dict[tuple[str, str, tuple[str, ...]], Any] = {}

    def _component(
        self, component: str, variant: str, names: Iterable[str], make: Callable[[list[Any]], T]
    ) -> T:
        feeding = tuple(name for name in names if getattr(self._entries[name], component))
        key = (component, variant, feeding)
        if key not in self._built:
            items = [item for name in feeding for item in getattr(self._entries[name], component)]
            self._built[key] = make(items)
        return cast(T, self._built[key])

    def matchers(self, kind: IndicatorType, names: tuple[str, ...]) -> _Matchers:
        caseless = kind not in _CASED_TYPES
        alphabet = _ALPHABETS.get(kind)
        hosts = names if kind in _HOST_TYPES else ()
        addresses = names if kind in _ADDRESS_TYPES else ()
        return _Matchers(
            strings=self._component(
                "strings", str(caseless), names, partial(_string_table, caseless=caseless)
            ),
            caseless=caseless,
            substrings=self._component(
                "substrings", "".join(sorted(alphabet or ())), names, partial(_substrings, alphabet)
            ),
            regexes=self._component("regexes", "", names, tuple),
            hostnames=self._component("hostnames", "", hosts, HostnameTable),
            ipv4=self._component("ipv4", "", addresses, AddressIntervals),
            ipv6=self._component("ipv6", "", addresses, AddressIntervals),
        )


def _string_table(items: list[tuple[str, WarninglistHit]], caseless: bool) -> Mapping[str, Hits]:
    table: dict[str, list[WarninglistHit]] = {}
    for key, hit in items:
        table.setdefault(key.lower() if caseless else key, []).append(hit)
    return MappingProxyType({key: tuple(hits) for key, hits in table.items()})


def _substrings(
    alphabet: frozenset[str] | None, items: list[tuple[str, WarninglistHit]]
) -> SubstringTable:
    if alphabet is None:
        return SubstringTable(items)
    return SubstringTable(item for item in items if set(item[0].lower()) <= alphabet)


class WarninglistIndex:
    """Immutable: built once from loaded lists, then asked from any number of threads."""

    __slots__ = ("_lists", "_matchers", "_problems")

    def __init__(self, lists: Iterable[Warninglist], problems: Iterable[RowProblem] = ()) -> None:
        by_name: dict[str, Warninglist] = {}
        for warninglist in lists:
            by_name.pop(warninglist.name, None)
            by_name[warninglist.name] = warninglist
        found = list(problems)
        builder = _Builder({name: _prepare(wl, found) for name, wl in by_name.items()})
        self._matchers = MappingProxyType(
            {
                kind: builder.matchers(
                    kind, tuple(name for name, wl in by_name.items() if kind in wl.indicator_types)
                )
                for kind in IndicatorType
            }
        )
        self._lists = MappingProxyType(by_name)
        self._problems = tuple(found)

    @classmethod
    def load(cls, sources: Iterable[Path]) -> WarninglistIndex:
        """Lists from files and folders in order (later ones replace same-named earlier
        ones); `problems` then names every broken file and entry that was left out."""
        loaded = load_warninglists(sources)
        return cls(loaded.lists, loaded.problems)

    @property
    def lists(self) -> Mapping[str, Warninglist]:
        return self._lists

    @property
    def problems(self) -> tuple[RowProblem, ...]:
        return self._problems

    def __repr__(self) -> str:
        return f"<WarninglistIndex {len(self._lists)} lists, {len(self._problems)} problems>"

    def hits(self, indicator_type: IndicatorType, value: str) -> Hits:
        """Every list entry the (normalised) value matches. A URL is also tested through
        its host, as a domain or an address; a CIDR hits every listed network it overlaps."""
        found = self._direct(indicator_type, value)
        host = _url_host(value) if indicator_type is IndicatorType.URL else None
        if host:
            address = parse_address_range(host)
            found.extend(
                self._direct(_address_type(address) if address else IndicatorType.DOMAIN, host)
            )
        return _ordered(found)

    def _direct(self, kind: IndicatorType, value: str) -> list[WarninglistHit]:
        matchers = self._matchers[kind]
        found = matchers.text_hits(value)
        host = _host_of(kind, value)
        if host and matchers.hostnames:
            found.extend(matchers.hostnames.hits(host))
        subject = host if kind is IndicatorType.URL else value
        address = parse_address_range(subject) if subject and kind in _ADDRESS_TYPES else None
        if address:
            intervals = matchers.ipv4 if address.version == 4 else matchers.ipv6
            found.extend(intervals.overlapping(address.first, address.last))
        return found

    def check_addresses(self, values: Sequence[str]) -> list[Hits]:
        """`hits()` of many addresses at once, each typed by its form (IPv4/IPv6 address or
        network); anything else gets (). Dotted quads are searched as one numpy array."""
        matchers = self._matchers[IndicatorType.IPV4]
        integers = ipv4_integers(values)
        results = matchers.ipv4.label_many(integers)
        if matchers.has_text_lists:
            for position in np.flatnonzero(integers != NOT_IPV4).tolist():
                if extra := matchers.text_hits(values[position]):
                    results[position] = _ordered((*results[position], *extra))
        for position in np.flatnonzero(integers == NOT_IPV4).tolist():
            address = parse_address_range(values[position])
            if address:
                results[position] = self.hits(_address_type(address), values[position])
        return results


def _host_of(kind: IndicatorType, value: str) -> str | None:
    """The host name hostname lists compare: the domain itself, an e-mail's domain part,
    a URL's host."""
    if kind is IndicatorType.DOMAIN:
        return value
    if kind is IndicatorType.EMAIL:
        return value.rpartition("@")[2] or None
    if kind is IndicatorType.URL:
        return _url_host(value)
    return None
