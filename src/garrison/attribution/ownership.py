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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.intel.warninglists.networks import NOT_IPV4, ipv4_integers
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
    """One prefix length: sorted network starts and the route of each."""

    def __init__(self, prefix: int, routes: dict[int, _Route]) -> None:
        self.prefix = prefix
        self.mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        starts = sorted(routes)
        self.starts: npt.NDArray[np.int64] = np.array(starts, dtype=np.int64)
        self.routes = [routes[start] for start in starts]


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
        self._v6: dict[int, dict[int, _Route]] = {}
        for network_id, organisation_id, cidr in networks:
            network = ipaddress.ip_network(cidr)
            route = _Route(network_id, organisation_id, network.with_prefixlen)
            table = by_prefix4 if network.version == 4 else self._v6
            table.setdefault(network.prefixlen, {})[int(network.network_address)] = route
        self._v4 = [_Ipv4Table(p, routes) for p, routes in sorted(by_prefix4.items(), reverse=True)]
        self._v6_prefixes = sorted(self._v6, reverse=True)
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

    def _route_v6(self, address: int) -> _Route | None:
        for prefix in self._v6_prefixes:
            masked = address & ~((1 << (128 - prefix)) - 1)
            route = self._v6[prefix].get(masked)
            if route is not None:
                return route
        return None

    def _owner(self, address: str, route: _Route | None) -> Owner | None:
        asset = self._assets.get(address)
        if asset is not None:
            asset_id, organisation_id = asset
            conflict = (
                route.organisation_id
                if route and route.organisation_id != organisation_id
                else None
            )
            return Owner(
                organisation_id,
                route.network_id if route else None,
                route.cidr if route else None,
                asset_id,
                conflict_organisation_id=conflict,
            )
        if route is None:
            return None
        return Owner(route.organisation_id, route.network_id, route.cidr)

    def _routes_v4(self, integers: npt.NDArray[np.int64]) -> list[_Route | None]:
        found: list[_Route | None] = [None] * len(integers)
        pending = np.flatnonzero(integers != NOT_IPV4)
        for table in self._v4:  # longest prefix first: the first match is the most specific
            if not len(pending):
                break
            masked = integers[pending] & table.mask
            positions = np.searchsorted(table.starts, masked)
            clipped = np.minimum(positions, len(table.starts) - 1)
            hit = table.starts[clipped] == masked
            for index, position in zip(pending[hit].tolist(), clipped[hit].tolist(), strict=True):
                found[index] = table.routes[position]
            pending = pending[~hit]
        return found

    def owners_of_addresses(self, addresses: Sequence[str]) -> list[Owner | None]:
        """The owner of each canonical IPv4/IPv6 address (None when nobody registered it)."""
        integers = ipv4_integers(addresses)
        routes = self._routes_v4(integers)
        for index in np.flatnonzero(integers == NOT_IPV4).tolist():
            try:
                address = ipaddress.ip_address(addresses[index])
            except ValueError:
                continue
            if address.version == 6:
                routes[index] = self._route_v6(int(address))
        return [
            self._owner(address, route) for address, route in zip(addresses, routes, strict=True)
        ]

    def owner_of_network(self, cidr: str) -> Owner | None:
        """A listed CIDR belongs to the most specific registered network holding all of it."""
        network = ipaddress.ip_network(cidr, strict=False)
        first = network.network_address
        if network.version == 4:
            for table in self._v4:
                if table.prefix > network.prefixlen:
                    continue
                masked = int(first) & table.mask
                position = int(np.searchsorted(table.starts, masked))
                if position < len(table.starts) and int(table.starts[position]) == masked:
                    found = table.routes[position]
                    return Owner(found.organisation_id, found.network_id, found.cidr)
            return None
        for prefix in self._v6_prefixes:
            if prefix <= network.prefixlen:
                masked = int(first) & ~((1 << (128 - prefix)) - 1)
                route = self._v6[prefix].get(masked)
                if route is not None:
                    return Owner(route.organisation_id, route.network_id, route.cidr)
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
