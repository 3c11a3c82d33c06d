"""Addresses and networks of cidr lists as sorted disjoint integer intervals.

Every entry of every cidr list is one [first, last] integer range. Overlapping ranges are cut
into elementary intervals, each remembering every entry that covers it, so that one binary
search answers "which entries contain this address" for any number of lists: a scalar
`bisect` for one value, `numpy.searchsorted` for a million.
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise, repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from garrison.intel.warninglists.lists import WarninglistHit

Hits = tuple[WarninglistHit, ...]
NOT_IPV4 = -1
"""Marks, in an array of IPv4 integers, a value that is not a dotted-quad address."""


class AddressRange(NamedTuple):
    version: int
    first: int
    last: int


def _ipv4_integer(text: str) -> int:
    """Dotted quad → integer; socket.inet_pton is strict (no leading zeros, exactly four
    decimal octets) like `ipaddress`, and ten times faster."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")


def _simple_prefix(text: str) -> int | None:
    """A plain '/24'-style IPv4 prefix; anything else ('/255.0.0.0', '/024') is left to
    `ipaddress`, so the fast path never disagrees with it."""
    if text == "0" or (text.isascii() and text.isdigit() and len(text) <= 2 and text[0] != "0"):
        prefix = int(text)
        return prefix if prefix <= 32 else None
    return None


def _ipv4_network(address: int, prefix: int) -> AddressRange:
    size = 1 << (32 - prefix)
    first = address & -size
    return AddressRange(4, first, first + size - 1)


def _any_network(text: str) -> AddressRange | None:
    """The general (slower) parse: IPv6, netmask prefixes, whatever `ipaddress` accepts."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    return AddressRange(
        network.version, int(network.network_address), int(network.broadcast_address)
    )


def parse_address_range(text: str) -> AddressRange | None:
    """An IPv4/IPv6 address or network (host bits ignored) as an integer range, or None."""
    address, slash, prefix_text = text.strip().partition("/")
    prefix = _simple_prefix(prefix_text) if slash else 32
    if prefix is not None:
        try:
            return _ipv4_network(_ipv4_integer(address), prefix)
        except (OSError, ValueError):
            pass
    return _any_network(text)


def parse_address_ranges(texts: Sequence[str]) -> list[AddressRange | None]:
    """`parse_address_range` of every text, the dotted quads of a whole list converted at
    once (a public resolver list has 60,000 of them)."""
    parts = [text.strip().partition("/") for text in texts]
    integers = ipv4_integers([address for address, _, _ in parts]).tolist()
    ranges: list[AddressRange | None] = []
    for text, (_, slash, prefix_text), integer in zip(texts, parts, integers, strict=True):
        prefix = _simple_prefix(prefix_text) if slash else 32
        if integer == NOT_IPV4 or prefix is None:
            ranges.append(_any_network(text))
        else:
            ranges.append(_ipv4_network(integer, prefix))
    return ranges


def ipv4_integers(values: Sequence[str]) -> npt.NDArray[np.int64]:
    """Dotted quads → int64 array, NOT_IPV4 where a value is not one. All-valid input (the
    common case) is packed in one pass over C functions."""
    try:
        packed = b"".join(map(socket.inet_pton, repeat(socket.AF_INET, len(values)), values))
    except (OSError, ValueError, TypeError):
        return np.fromiter(
            (_ipv4_or_marker(value) for value in values), dtype=np.int64, count=len(values)
        )
    return np.frombuffer(packed, dtype=">u4").astype(np.int64)


def _ipv4_or_marker(value: str) -> int:
    try:
        return _ipv4_integer(value)
    except (OSError, ValueError, TypeError):
        return NOT_IPV4


class _Sweep:
    """Cuts clusters of overlapping ranges into disjoint intervals labelled with the ids of
    the hits covering them. Label 0 is "no hit", label 1 + n is hit n alone, and sets of
    hits are numbered after those."""

    def __init__(self, singles: int) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.label_ids: list[int] = []
        self.combined: dict[tuple[int, ...], int] = {}
        self._singles = singles

    def add_cluster(self, firsts: list[int], lasts: list[int], numbers: list[int]) -> None:
        opening: defaultdict[int, list[int]] = defaultdict(list)
        closing: defaultdict[int, list[int]] = defaultdict(list)
        for first, last, number in zip(firsts, lasts, numbers, strict=True):
            opening[first].append(number)
            closing[last + 1].append(number)
        active: dict[int, int] = {}
        points = sorted(opening.keys() | closing.keys())
        for point, following in pairwise(points):
            for number in closing.get(point, ()):
                active[number] -= 1
                if not active[number]:
                    del active[number]
            for number in opening.get(point, ()):
                active[number] = active.get(number, 0) + 1
            if active:
                self._append(point, following - 1, self._label_of(tuple(sorted(active))))

    def _label_of(self, numbers: tuple[int, ...]) -> int:
        if len(numbers) == 1:
            return 1 + numbers[0]
        return self.combined.setdefault(numbers, 1 + self._singles + len(self.combined))

    def _append(self, first: int, last: int, label: int) -> None:
        if self.ends and self.ends[-1] == first - 1 and self.label_ids[-1] == label:
            self.ends[-1] = last
        else:
            self.starts.append(first)
            self.ends.append(last)
            self.label_ids.append(label)


class AddressIntervals:
    """Disjoint intervals of one address family, each with the sorted hits covering it."""

    __slots__ = (
        "_ends",
        "_label_ids",
        "_labels",
        "_np_ends",
        "_np_label_ids",
        "_np_starts",
        "_starts",
    )

    def __init__(self, ranges: Sequence[tuple[int, int, WarninglistHit]]) -> None:
        firsts = [first for first, _, _ in ranges]
        lasts = [last for _, last, _ in ranges]
        hits = [hit for _, _, hit in ranges]
        # IPv4 bounds are int64 arrays; IPv6 bounds do not fit, so theirs hold Python ints
        # (slower, but those lists are short) and only the scalar search serves them.
        vectorised = not lasts or max(lasts) < 1 << 62
        dtype: Any = np.int64 if vectorised else object
        first, last = np.array(firsts, dtype=dtype), np.array(lasts, dtype=dtype)
        order = np.lexsort((last, first))
        first, last = first[order], last[order]
        # A range that overlaps no other (nearly all) is an interval as it is; only clusters
        # of overlapping ranges are swept.
        starts_cluster = np.ones(len(order), dtype=bool)
        starts_cluster[1:] = first[1:] > np.maximum.accumulate(last)[:-1]
        cluster = np.cumsum(starts_cluster) - 1
        alone = np.bincount(cluster)[cluster] == 1
        sweep = _Sweep(len(hits))
        shared = np.flatnonzero(~alone)
        for group in np.split(shared, np.flatnonzero(np.diff(cluster[shared])) + 1):
            if len(group):
                sweep.add_cluster(
                    first[group].tolist(), last[group].tolist(), order[group].tolist()
                )
        starts = np.concatenate([first[alone], np.array(sweep.starts, dtype=dtype)])
        ends = np.concatenate([last[alone], np.array(sweep.ends, dtype=dtype)])
        label_ids = np.concatenate([order[alone] + 1, np.array(sweep.label_ids, dtype=np.int64)])
        by_start = np.argsort(starts, kind="stable")
        self._starts: list[int] = starts[by_start].tolist()
        self._ends: list[int] = ends[by_start].tolist()
        self._label_ids: list[int] = label_ids[by_start].tolist()
        self._labels: list[Hits] = [(), *((hit,) for hit in hits)]
        self._labels.extend(tuple(sorted({hits[n] for n in label})) for label in sweep.combined)
        self._np_starts = _frozen_array(self._starts if vectorised else [])
        self._np_ends = _frozen_array(self._ends if vectorised else [])
        self._np_label_ids = _frozen_array(self._label_ids if vectorised else [])

    def __len__(self) -> int:
        return len(self._ends)

    def overlapping(self, first: int, last: int) -> Hits:
        """Every hit whose range shares an address with [first, last]."""
        low = bisect_left(self._ends, first)
        high = bisect_right(self._starts, last)
        if high - low == 1:
            return self._labels[self._label_ids[low]]
        found: set[WarninglistHit] = set()
        for position in range(low, high):
            found.update(self._labels[self._label_ids[position]])
        return tuple(sorted(found))

    def label_many(self, addresses: npt.NDArray[np.int64]) -> list[Hits]:
        """Hits of every address of an int64 array at once (IPv4 only: numpy has no
        128-bit integers); NOT_IPV4 and any value outside every interval get ()."""
        if len(self._np_starts) != len(self._starts):
            raise ValueError("bulk search needs intervals of IPv4 addresses")
        if not self._starts:
            return [()] * len(addresses)
        position = np.searchsorted(self._np_starts, addresses, side="right") - 1
        clipped = np.maximum(position, 0)
        inside = (position >= 0) & (addresses <= self._np_ends[clipped])
        ids = np.where(inside, self._np_label_ids[clipped], 0)
        return list(map(self._labels.__getitem__, ids.tolist()))


def _frozen_array(values: list[int]) -> npt.NDArray[np.int64]:
    array = np.array(values, dtype=np.int64)
    array.flags.writeable = False
    return array
