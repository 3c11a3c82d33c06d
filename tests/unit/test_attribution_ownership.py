"""Longest-prefix ownership against a brute-force reference, IPv4 and IPv6, assets, domains."""

from __future__ import annotations

import ipaddress
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.attribution.ownership import Owner, OwnershipIndex

NETWORKS = [
    (1, 10, "203.0.113.0/24"),
    (2, 11, "203.0.113.128/25"),  # nested: more specific, another organisation
    (3, 12, "203.0.113.200/30"),
    (4, 20, "198.51.100.0/22"),
    (5, 30, "2001:db8::/32"),
    (6, 31, "2001:db8:abcd::/48"),
]
ASSETS = [("203.0.113.201", 900, 12), ("203.0.113.10", 901, 99)]
DOMAINS = [("sonlam.gov.vn", 10), ("syt.sonlam.gov.vn", 11)]


def index() -> OwnershipIndex:
    return OwnershipIndex(NETWORKS, ASSETS, DOMAINS)


def organisations(values: list[str]) -> list[int | None]:
    return [o.organisation_id if o else None for o in index().owners_of_addresses(values)]


def test_most_specific_network_wins() -> None:
    assert organisations(
        [
            "203.0.113.5",
            "203.0.113.130",
            "203.0.113.202",
            "198.51.103.255",
            "198.51.104.0",
            "2001:db8::1",
            "2001:db8:abcd:1::5",
            "2001:db9::1",
            "10.0.0.1",
        ]
    ) == [10, 11, 12, 20, None, 30, 31, None, None]


def test_asset_is_more_specific_and_conflicts_are_reported() -> None:
    owners = index().owners_of_addresses(["203.0.113.201", "203.0.113.10"])
    assert owners[0] == Owner(12, 3, "203.0.113.200/30", 900)
    assert owners[1] == Owner(99, 1, "203.0.113.0/24", 901, conflict_organisation_id=10)


def test_networks_and_domains() -> None:
    assert index().owner_of_network("203.0.113.128/26") == Owner(11, 2, "203.0.113.128/25")
    assert index().owner_of_network("203.0.112.0/23") is None
    assert index().owner_of_network("2001:db8:abcd:ff00::/56") == Owner(31, 6, "2001:db8:abcd::/48")
    assert index().owner_of_domain("mail.syt.sonlam.gov.vn") == Owner(
        11, domain="syt.sonlam.gov.vn"
    )
    assert index().owner_of_domain("sonlam.gov.vn") == Owner(10, domain="sonlam.gov.vn")
    assert index().owner_of_domain("gov.vn") is None


def _reference(networks: list[tuple[int, int, str]], address: str) -> int | None:
    ip = ipaddress.ip_address(address)
    best: tuple[int, int] | None = None
    for _network_id, organisation, cidr in networks:
        network = ipaddress.ip_network(cidr)
        if (
            ip.version == network.version
            and ip in network
            and (best is None or network.prefixlen > best[0])
        ):
            best = (network.prefixlen, organisation)
    return best[1] if best else None


def _random_networks(rng: random.Random, count: int) -> list[tuple[int, int, str]]:
    cidrs: set[str] = set()
    while len(cidrs) < count:
        if rng.random() < 0.8:
            base = rng.choice([0xCB007100, 0xC6336400, 0x0A000000])
            prefix = rng.randint(8, 32)
            network = ipaddress.ip_network((base + rng.getrandbits(16), prefix), strict=False)
        else:
            network = ipaddress.ip_network(
                ((0x20010DB8 << 96) + rng.getrandbits(64), rng.randint(32, 128)), strict=False
            )
        cidrs.add(network.with_prefixlen)
    return [(n, 100 + n, cidr) for n, cidr in enumerate(sorted(cidrs))]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    networks = _random_networks(rng, 40)
    built = OwnershipIndex(networks, [], [])
    addresses = [
        str(
            ipaddress.ip_address(
                rng.choice([0xCB007100, 0xC6336400, 0x0A000000]) + rng.getrandbits(17)
            )
        )
        for _ in range(150)
    ] + [str(ipaddress.ip_address((0x20010DB8 << 96) + rng.getrandbits(65))) for _ in range(50)]
    found = [o.organisation_id if o else None for o in built.owners_of_addresses(addresses)]
    assert found == [_reference(networks, address) for address in addresses]
