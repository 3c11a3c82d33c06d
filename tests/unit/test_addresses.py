"""IP addresses and CIDR networks as the registry stores and compares them."""

from __future__ import annotations

import ipaddress

import pytest

from garrison.orgs.addresses import AddressError, address_key, parse_address, parse_network


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("  203.0.113.7\t", "203.0.113.7"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("::1", "::1"),
    ],
)
def test_parse_address_accepts_and_normalises(text: str, expected: str) -> None:
    assert str(parse_address(text)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("148.81.111.11.12", "is not an IPv4 or IPv6 address"),
        ("256.1.1.1", "is not an IPv4 or IPv6 address"),
        ("010.1.1.1", "is not an IPv4 or IPv6 address"),
        ("203.0.113.0/24", "is not an IPv4 or IPv6 address"),
        ("fe80::1%eth0", "zone id"),
        ("fe80::1%25", "zone id"),
        ("", "empty address"),
        ("   ", "empty address"),
        ("máy chủ", "is not an IPv4 or IPv6 address"),
    ],
)
def test_parse_address_rejects_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        parse_address(text)


@pytest.mark.parametrize(
    ("text", "cidr", "had_host_bits"),
    [
        ("203.0.113.0/24", "203.0.113.0/24", False),
        (" 203.0.113.0/24 ", "203.0.113.0/24", False),
        ("203.0.113.77/24", "203.0.113.0/24", True),
        ("203.0.113.7", "203.0.113.7/32", False),
        ("2001:DB8::/32", "2001:db8::/32", False),
        ("2001:db8::1/64", "2001:db8::/64", True),
        ("2001:db8::1", "2001:db8::1/128", False),
        ("198.51.100.0/255.255.255.0", "198.51.100.0/24", False),
        ("0.0.0.0/0", "0.0.0.0/0", False),
    ],
)
def test_parse_network_normalises(text: str, cidr: str, had_host_bits: bool) -> None:
    parsed = parse_network(text)
    assert parsed.cidr == cidr
    assert parsed.had_host_bits is had_host_bits


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("148.81.111.11.12", "not an IPv4 or IPv6 network"),
        ("148.81.111.11.12/24", "not an IPv4 or IPv6 network"),
        ("203.0.113.0/33", "not an IPv4 or IPv6 network"),
        ("2001:db8::/129", "not an IPv4 or IPv6 network"),
        ("203.0.113.0-203.0.113.255", "not an IPv4 or IPv6 network"),
        ("fe80::1%eth0", "zone id"),
        ("fe80::%eth0/64", "zone id"),
        ("", "empty network"),
    ],
)
def test_parse_network_rejects_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason):
        parse_network(text)


def test_network_keys_bound_every_address_it_holds() -> None:
    parsed = parse_network("203.0.113.0/24")
    inside = [address_key(ipaddress.ip_address(f"203.0.113.{n}")) for n in (0, 1, 128, 255)]
    outside = [address_key(ipaddress.ip_address(a)) for a in ("203.0.112.255", "203.0.114.0")]
    assert all(parsed.first_key <= key <= parsed.last_key for key in inside)
    assert not any(parsed.first_key <= key <= parsed.last_key for key in outside)


def test_address_keys_sort_like_addresses_and_keep_versions_apart() -> None:
    addresses = [
        ipaddress.ip_address(text)
        for text in ("10.0.0.2", "9.255.255.255", "::1", "10.0.0.10", "2001:db8::1", "0.0.0.0")
    ]
    by_key = sorted(addresses, key=address_key)
    v4 = sorted(a for a in addresses if a.version == 4)
    v6 = sorted(a for a in addresses if a.version == 6)
    assert by_key == v4 + v6
    assert address_key(ipaddress.ip_address("::")) != address_key(ipaddress.ip_address("0.0.0.0"))
    assert {len(address_key(a)) for a in addresses} == {33}
