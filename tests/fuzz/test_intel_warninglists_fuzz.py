"""Property tests: warninglists never crash on what people write, and the merged interval index
answers exactly what a naive `ipaddress` scan of every listed network answers."""

from __future__ import annotations

import ipaddress
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError, RowProblem
from garrison.intel.types import IndicatorType
from garrison.intel.warninglists import (
    MatchType,
    Warninglist,
    WarninglistHit,
    WarninglistIndex,
    load_warninglists,
    read_warninglist,
)
from garrison.intel.warninglists.networks import NOT_IPV4, ipv4_integers

IPv4Net = ipaddress.IPv4Network
IPv6Net = ipaddress.IPv6Network
ATTRIBUTES = ("ip-src", "ip-dst", "domain", "hostname", "url", "email-src", "md5", "sha256")

# --- Arbitrary lists and values -----------------------------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**40), st.text(max_size=20), st.floats()
)
entry_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["10.0.0.0/8", "*.bit.ly", ".gov.vn", "/^abuse@/i", "/(/", "::/0", "0.0.0.0/0", ""]
    ),
    st.from_regex(r"\A[0-9a-f.:/*]{1,24}\Z"),
)
documents = st.one_of(
    st.fixed_dictionaries(
        {
            "name": st.one_of(st.text(max_size=12), json_scalars),
            "version": st.one_of(st.integers(0, 10**9), json_scalars),
            "description": st.one_of(st.text(max_size=12), json_scalars),
            "type": st.one_of(st.sampled_from(list(MatchType)), json_scalars),
            "list": st.one_of(st.lists(entry_text, max_size=8), json_scalars),
        },
        optional={
            "matching_attributes": st.one_of(
                st.lists(st.sampled_from(ATTRIBUTES), max_size=3), json_scalars
            ),
            "category": st.one_of(st.sampled_from(["false-positive", "known"]), json_scalars),
        },
    ),
    st.lists(json_scalars, max_size=3),
    json_scalars,
)
values = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A[0-9a-f.:/\[\]@a-z]{0,40}\Z"),
    st.sampled_from(["8.8.8.8", "10.0.0.0/7", "http://[::1]/", "abuse@x.vn", "a.bit.ly"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(documents, st.binary(max_size=40)), min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(list(IndicatorType)), values), max_size=8),
)
def test_arbitrary_lists_and_values_never_crash(
    files: list[Any], queries: list[tuple[IndicatorType, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for number, content in enumerate(files):
            path = Path(folder) / f"list{number}.json"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(json.dumps(content), encoding="utf-8")
            try:
                assert isinstance(read_warninglist(path), Warninglist)
            except InputError as exc:
                assert exc.problems and all(p.file == str(path) for p in exc.problems)
        loaded = load_warninglists([Path(folder)])
        index = WarninglistIndex(loaded.lists, loaded.problems)
    assert len(loaded.lists) + len(loaded.problems) >= 1
    assert all(isinstance(problem, RowProblem) for problem in index.problems)
    for kind, value in queries:
        hits = index.hits(kind, value)
        assert all(isinstance(hit, WarninglistHit) for hit in hits)
        assert list(hits) == sorted(set(hits))
    texts = [value for _, value in queries]
    assert len(index.check_addresses(texts)) == len(texts)


# --- The interval index against a naive scan ----------------------------------------------------

# Addresses crowd into a few small regions half of the time, so that networks nest, overlap
# and touch and probes land on their bounds.
ipv4_integers_st = st.one_of(
    st.integers(0, 2**32 - 1),
    st.integers(0x0A000000, 0x0A0001FF),
    st.integers(2**32 - 300, 2**32 - 1),
    st.integers(0, 300),
)
ipv6_integers_st = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0x20010DB8 << 96, (0x20010DB8 << 96) + 0x3FF),
    st.integers(2**128 - 300, 2**128 - 1),
)
ipv4_networks = st.builds(
    lambda address, prefix: IPv4Net((address, prefix), strict=False),
    ipv4_integers_st,
    st.one_of(st.integers(0, 32), st.integers(22, 32)),
)
ipv6_networks = st.builds(
    lambda address, prefix: IPv6Net((address, prefix), strict=False),
    ipv6_integers_st,
    st.one_of(st.integers(0, 128), st.integers(118, 128)),
)
networks = st.one_of(ipv4_networks, ipv4_networks, ipv6_networks)


def entry_of(network: IPv4Net | IPv6Net, style: int) -> str:
    """The ways lists write a network: compressed, a bare address for a single one, with
    host bits set, exploded."""
    if style == 1 and network.num_addresses == 1:
        return str(network.network_address)
    if style == 2:
        return f"{network.broadcast_address}/{network.prefixlen}"
    if style == 3:
        return network.exploded
    return str(network)


@st.composite
def cidr_lists(draw: st.DrawFn) -> list[Warninglist]:
    lists = []
    for number in range(draw(st.integers(1, 3))):
        chosen = draw(st.lists(st.tuples(networks, st.integers(0, 3)), min_size=0, max_size=12))
        entries = tuple(dict.fromkeys(entry_of(network, style) for network, style in chosen))
        lists.append(Warninglist(f"list {number}", number, "d", MatchType.CIDR, entries))
    return lists


def naive_hits(lists: list[Warninglist], query: IPv4Net | IPv6Net) -> set[tuple[str, str]]:
    return {
        (warninglist.name, entry)
        for warninglist in lists
        for entry in warninglist.entries
        if ipaddress.ip_network(entry, strict=False).overlaps(query)
    }


def probes_near(lists: list[Warninglist]) -> list[int]:
    """Each listed network's bounds and their neighbours."""
    found = []
    for warninglist in lists:
        for entry in warninglist.entries:
            network = ipaddress.ip_network(entry, strict=False)
            if network.version == 4:
                first, last = int(network.network_address), int(network.broadcast_address)
                found += [first - 1, first, last, last + 1]
    return [value for value in found if 0 <= value < 2**32]


@settings(max_examples=200, deadline=None)
@given(
    cidr_lists(),
    st.lists(ipv4_integers_st, max_size=20),
    st.lists(ipv6_integers_st, max_size=10),
    st.lists(networks, max_size=6),
)
def test_interval_index_agrees_with_a_naive_scan(
    lists: list[Warninglist], v4: list[int], v6: list[int], queries: list[IPv4Net | IPv6Net]
) -> None:
    index = WarninglistIndex(lists)
    assert index.problems == ()
    addresses = [ipaddress.IPv4Address(n) for n in [*v4, *probes_near(lists)]]
    addresses += [ipaddress.IPv6Address(n) for n in v6]
    for address in addresses:
        kind = IndicatorType.IPV4 if address.version == 4 else IndicatorType.IPV6
        got = {(hit.name, hit.entry) for hit in index.hits(kind, address.compressed)}
        assert got == naive_hits(lists, ipaddress.ip_network(address)), address
    for query in queries:
        kind = IndicatorType.CIDR4 if query.version == 4 else IndicatorType.CIDR6
        got = {(hit.name, hit.entry) for hit in index.hits(kind, query.compressed)}
        assert got == naive_hits(lists, query), query
    texts = [address.compressed for address in addresses]
    bulk = index.check_addresses(texts)
    assert bulk == [
        index.hits(IndicatorType.IPV4 if ":" not in t else IndicatorType.IPV6, t) for t in texts
    ]
    # the all-IPv4 batch takes the vectorised path: same answers
    ipv4_texts = [text for text in texts if ":" not in text]
    assert index.check_addresses(ipv4_texts) == [
        b for t, b in zip(texts, bulk, strict=True) if ":" not in t
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,4}){0,4}\Z"),
            st.builds(lambda n: str(ipaddress.IPv4Address(n)), ipv4_integers_st),
            st.text(max_size=16),
        ),
        max_size=20,
    )
)
def test_fast_dotted_quad_conversion_agrees_with_ipaddress(texts: list[str]) -> None:
    expected = []
    for text in texts:
        try:
            expected.append(int(ipaddress.IPv4Address(text)))
        except ValueError:
            expected.append(NOT_IPV4)
    assert ipv4_integers(texts).tolist() == expected
