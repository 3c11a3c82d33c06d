"""Who owns an address or a domain: the registry compiled into one look-up index.

Addresses are matched like a router matches routes: per prefix length present in the
registry, the address is masked and looked up, and the longest matching prefix wins (the
registry keeps CIDRs unique, so a prefix names one network). IPv4 look-ups run over numpy
arrays, one `searchsorted` per prefix length, so a million addresses take well under a
second; IPv6 uses a dictionary per prefix length. An asset holding the exact address is
more specific still. Domains are matched by walking the name's parent domains.

The same index serves attribution of intel lists, the hunt engine's hits and the sweep
tool's reports: anything that has an address or a host name and wants its owner.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.intel.warninglists.networks import (
    NOT_IPV4,
    ipv4_integers,
    parse_address_ranges,
)
from garrison.orgs.models import Asset, AssetAddress, Domain, Network


@dataclass(frozen=True, slots=True)
class Owner:
    """The organisation an address or name belongs to, and what decided it."""

    organisation_id: int
    network_id: int | None = None
    cidr: str | None = None
    asset_id: int | None = None
    domain: str | None = None
    conflict_organisation_id: int | None = None
    """Set when the asset holding the address belongs to another organisation than the
    network around it: the asset wins, the disagreement is reported."""


@dataclass(frozen=True, slots=True)
class _Route:
    network_id: int
    organisation_id: int
    cidr: str


class _Ipv4Table:
    """One prefix length: sorted network starts; route ids are `first_route` + position."""

    def __init__(self, prefix: int, starts: list[int], first_route: int) -> None:
        self.prefix = prefix
        self.mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        self.starts: npt.NDArray[np.int64] = np.array(starts, dtype=np.int64)
        self.first_route = first_route


class OwnershipIndex:
    """Built once from the registry (as the system, outside any tenancy), then read-only."""

    def __init__(
        self,
        networks: Sequence[tuple[int, int, str]],
        asset_addresses: Sequence[tuple[str, int, int]],
        domains: Sequence[tuple[str, int]],
    ) -> None:
        """`networks`: (network id, organisation id, cidr); `asset_addresses`: (address,
        asset id, organisation id); `domains`: (name, organisation id)."""
        by_prefix4: dict[int, dict[int, _Route]] = {}
        self._v6: dict[int, dict[int, int]] = {}
        self._routes: list[_Route] = []
        v6_routes: list[tuple[int, int, _Route]] = []
        ranges = parse_address_ranges([cidr for _, _, cidr in networks])
        for (network_id, organisation_id, cidr), span in zip(networks, ranges, strict=True):
            if span is None:
                raise ValueError(f"network {network_id}: {cidr!r} is not a CIDR")
            bits = 32 if span.version == 4 else 128
            prefix = bits - (span.last - span.first + 1).bit_length() + 1
            route = _Route(network_id, organisation_id, cidr)
            if span.version == 4:
                by_prefix4.setdefault(prefix, {})[span.first] = route
            else:
                v6_routes.append((prefix, span.first, route))
        self._v4: list[_Ipv4Table] = []
        for prefix, routes in sorted(by_prefix4.items(), reverse=True):
            starts = sorted(routes)
            self._v4.append(_Ipv4Table(prefix, starts, len(self._routes)))
            self._routes.extend(routes[start] for start in starts)
        for prefix, start, route in v6_routes:
            self._v6.setdefault(prefix, {})[start] = len(self._routes)
            self._routes.append(route)
        self._v6_prefixes = sorted(self._v6, reverse=True)
        self._owners = [Owner(r.organisation_id, r.network_id, r.cidr) for r in self._routes]
        self._assets = {
            ipaddress.ip_address(address).compressed: (asset_id, organisation_id)
            for address, asset_id, organisation_id in asset_addresses
        }
        self._domains = dict(domains)
        self.network_count = len(networks)

    @classmethod
    def build(cls, session: Session) -> OwnershipIndex:
        networks = session.execute(select(Network.id, Network.organisation_id, Network.cidr))
        addresses = session.execute(
            select(AssetAddress.address, Asset.id, Asset.organisation_id).join(Asset)
        )
        domains = session.execute(select(Domain.name, Domain.organisation_id))
        return cls(
            [tuple(row) for row in networks],  # type: ignore[misc]
            [tuple(row) for row in addresses],  # type: ignore[misc]
            [tuple(row) for row in domains],  # type: ignore[misc]
        )

    def _route_v6(self, address: int) -> int:
        for prefix in self._v6_prefixes:
            masked = address & ~((1 << (128 - prefix)) - 1)
            route = self._v6[prefix].get(masked)
            if route is not None:
                return route
        return -1

    def route_ids(self, addresses: Sequence[str]) -> npt.NDArray[np.int64]:
        """For each canonical address, the id of its most specific network's route, or -1.
        IPv4 runs as one masked binary search per prefix length over the whole array."""
        found = np.full(len(addresses), -1, dtype=np.int64)
        v4_positions = [i for i, value in enumerate(addresses) if ":" not in value]
        integers = ipv4_integers([addresses[i] for i in v4_positions])
        positions = np.array(v4_positions, dtype=np.int64)
        valid = integers != NOT_IPV4
        pending, values = positions[valid], integers[valid]
        for table in self._v4:  # longest prefix first: the first match is the most specific
            if not len(pending):
                break
            masked = values & table.mask
            slots = np.minimum(np.searchsorted(table.starts, masked), len(table.starts) - 1)
            hit = table.starts[slots] == masked
            found[pending[hit]] = table.first_route + slots[hit]
            pending, values = pending[~hit], values[~hit]
        if self._v6_prefixes:
            for index, value in enumerate(addresses):
                if ":" in value:
                    try:
                        packed = socket.inet_pton(socket.AF_INET6, value)
                    except (OSError, ValueError):
                        continue
                    found[index] = self._route_v6(int.from_bytes(packed, "big"))
        return found

    def owners_of_addresses(self, addresses: Sequence[str]) -> list[Owner | None]:
        """The owner of each canonical IPv4/IPv6 address (None when nobody registered it)."""
        owners = self._owners
        found: list[Owner | None] = [
            owners[route] if route >= 0 else None for route in self.route_ids(addresses).tolist()
        ]
        if self._assets:
            for index, address in enumerate(addresses):
                asset = self._assets.get(address)
                if asset is not None:
                    found[index] = self._asset_owner(asset, found[index])
        return found

    @staticmethod
    def _asset_owner(asset: tuple[int, int], around: Owner | None) -> Owner:
        asset_id, organisation_id = asset
        if around is None:
            return Owner(organisation_id, asset_id=asset_id)
        conflict = around.organisation_id if around.organisation_id != organisation_id else None
        return Owner(
            organisation_id,
            around.network_id,
            around.cidr,
            asset_id,
            conflict_organisation_id=conflict,
        )

    def owner_of_network(self, cidr: str) -> Owner | None:
        """A listed CIDR belongs to the most specific registered network holding all of it."""
        network = ipaddress.ip_network(cidr, strict=False)
        first = int(network.network_address)
        if network.version == 4:
            for table in self._v4:
                if table.prefix > network.prefixlen:
                    continue
                masked = first & table.mask
                slot = int(np.searchsorted(table.starts, masked))
                if slot < len(table.starts) and int(table.starts[slot]) == masked:
                    return self._owners[table.first_route + slot]
            return None
        for prefix in self._v6_prefixes:
            if prefix <= network.prefixlen:
                route = self._v6[prefix].get(first & ~((1 << (128 - prefix)) - 1))
                if route is not None:
                    return self._owners[route]
        return None

    def owner_of_domain(self, name: str) -> Owner | None:
        """The organisation owning the name or its nearest registered parent domain."""
        labels = name.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            organisation_id = self._domains.get(candidate)
            if organisation_id is not None:
                return Owner(organisation_id, domain=candidate)
        return None
