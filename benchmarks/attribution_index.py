"""Benchmark: the attribution ownership index over a province-sized registry.

Builds an `OwnershipIndex` for 5,000 organisations owning 50,000 networks (IPv4 /22 to /29,
nested blocks included, and IPv6 /48s), then finds the owner of 1,000,000 addresses (90%
IPv4, 10% IPv6, most inside registered networks). Correctness is checked against a
brute-force longest-prefix scan on a sample. The anchor, measured in the same run, is
`pytricia` (a C Patricia trie, the usual Python answer for longest-prefix match) building
the same table and looking up the same addresses; it is skipped with a message when not
installed (`pip install pytricia`). Targets: build < 1 s, 1,000,000 look-ups < 2 s.

    python benchmarks/attribution_index.py [--organisations 5000] [--networks 50000]
        [--addresses 1000000] [--seed 7]

Never run by pytest.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import time
from collections.abc import Sequence

from garrison.attribution.ownership import OwnershipIndex

Networks = list[tuple[int, int, str]]


def registry(rng: random.Random, organisations: int, count: int) -> Networks:
    cidrs: dict[str, int] = {}
    while len(cidrs) < count:
        organisation = rng.randrange(organisations)
        if rng.random() < 0.85:
            prefix = rng.randint(22, 29)
            base = rng.choice((0x0E000000, 0x71000000, 0x7B000000, 0xCB710000))
            network = ipaddress.ip_network((base + rng.getrandbits(24), prefix), strict=False)
        else:
            network = ipaddress.ip_network(
                ((0x2401D800 << 96) + (rng.getrandbits(24) << 80), 48), strict=False
            )
        cidrs.setdefault(network.with_prefixlen, organisation)
    return [(n, org, cidr) for n, (cidr, org) in enumerate(cidrs.items())]


def addresses(rng: random.Random, networks: Networks, count: int) -> list[str]:
    found: list[str] = []
    parsed = [ipaddress.ip_network(cidr) for _, _, cidr in networks]
    for _ in range(count):
        if rng.random() < 0.8:
            network = rng.choice(parsed)
            found.append(str(network.network_address + rng.randrange(network.num_addresses)))
        elif rng.random() < 0.5:
            found.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
        else:
            found.append(str(ipaddress.IPv6Address((0x2401D800 << 96) + rng.getrandbits(96))))
    return found


def brute_force(networks: Networks, address: str) -> int | None:
    ip = ipaddress.ip_address(address)
    best: tuple[int, int] | None = None
    for _, organisation, cidr in networks:
        network = ipaddress.ip_network(cidr)
        if (
            network.version == ip.version
            and ip in network
            and (best is None or network.prefixlen > best[0])
        ):
            best = (network.prefixlen, organisation)
    return best[1] if best else None


def pytricia_anchor(networks: Networks, values: Sequence[str]) -> tuple[float, float] | None:
    try:
        import pytricia  # type: ignore[import-not-found]
    except ImportError:
        print("anchor skipped: pytricia is not installed (pip install pytricia)")
        return None
    started = time.perf_counter()
    v4, v6 = pytricia.PyTricia(32), pytricia.PyTricia(128)
    for _, organisation, cidr in networks:
        (v6 if ":" in cidr else v4)[cidr] = organisation
    built = time.perf_counter() - started
    started = time.perf_counter()
    for value in values:
        (v6 if ":" in value else v4).get(value)
    return built, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=5000)
    parser.add_argument("--networks", type=int, default=50_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    networks = registry(rng, options.organisations, options.networks)
    values = addresses(rng, networks, options.addresses)

    started = time.perf_counter()
    index = OwnershipIndex(networks, [], [])
    built = time.perf_counter() - started
    started = time.perf_counter()
    owners = index.owners_of_addresses(values)
    looked_up = time.perf_counter() - started

    sample = random.Random(1).sample(range(len(values)), 300)
    wrong = [
        i
        for i in sample
        if (owners[i].organisation_id if owners[i] else None) != brute_force(networks, values[i])
    ]
    attributed = sum(owner is not None for owner in owners)
    print(
        f"{len(networks):,} networks of {options.organisations:,} organisations, "
        f"{len(values):,} addresses ({attributed:,} attributed)"
    )
    print(
        f"  garrison  build {built:6.3f} s   look-ups {looked_up:6.3f} s"
        f"   (targets: build < 1 s, look-ups < 2 s)"
    )
    anchor = pytricia_anchor(networks, values)
    if anchor:
        print(f"  pytricia  build {anchor[0]:6.3f} s   look-ups {anchor[1]:6.3f} s")
    print(
        f"  brute-force check of {len(sample)} sampled addresses: "
        + ("all agree" if not wrong else f"{len(wrong)} DISAGREE")
    )
    if wrong:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
