"""IP addresses and CIDR networks as the registry stores them.

Ranges are kept as fixed-width hexadecimal text (32 digits) so that "which network holds
this address" is a plain string comparison that works alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressError(ValueError):
    """A value that is not a usable IP address or network; the message says why."""


def address_key(address: IPAddress) -> str:
    """Sortable text key: IPv4 and IPv6 never collide because the version is part of the key."""
    return f"{address.version}{int(address):032x}"


def _reject_zone(text: str) -> None:
    if "%" in text:
        raise AddressError(
            f"{text!r} has an IPv6 zone id (after '%'), which is only "
            "meaningful on one host; give the address without it"
        )


def parse_address(text: str) -> IPAddress:
    value = text.strip()
    if not value:
        raise AddressError("empty address")
    _reject_zone(value)
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise AddressError(f"{value!r} is not an IPv4 or IPv6 address") from None


@dataclass(frozen=True)
class ParsedNetwork:
    network: IPNetwork
    had_host_bits: bool

    @property
    def cidr(self) -> str:
        return self.network.with_prefixlen

    @property
    def first_key(self) -> str:
        return address_key(self.network.network_address)

    @property
    def last_key(self) -> str:
        return address_key(self.network.broadcast_address)


def parse_network(text: str) -> ParsedNetwork:
    """A CIDR (or a bare address, taken as /32 or /128); host bits are cleared and reported."""
    value = text.strip()
    if not value:
        raise AddressError("empty network")
    _reject_zone(value)
    try:
        strict = ipaddress.ip_network(value, strict=True)
        return ParsedNetwork(strict, had_host_bits=False)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise AddressError(f"{value!r} is not an IPv4 or IPv6 network in CIDR notation") from None
    return ParsedNetwork(loose, had_host_bits=True)
