"""Benchmark: MISP warninglists, loading and compiling, then a bulk check of IPv4 addresses.

Generates 1,000,000 random IPv4 addresses from a seed, times reading the shared warninglists,
compiling them into a `WarninglistIndex`, and `check_addresses` over all the addresses (best
of --repeat runs). The anchor, measured in the same run, is `grepcidr -x -c` matching the same
addresses (one per line in a file) against the same IPv4 CIDR entries (written to a pattern
file); both must count the same matching addresses. The anchor is skipped, with a message,
when grepcidr is not installed (`apt-get install -y grepcidr`). Each step prints wall and CPU
seconds (CPU time includes grepcidr's, as a child process). Target: the bulk check of
1,000,000 addresses under 2 s wall.

    python benchmarks/warninglist_check.py [--addresses 1000000] [--seed 20] [--repeat 3]
        [--lists DIR ...]

Never run by pytest.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from garrison.intel.types import IndicatorType
from garrison.intel.warninglists import MatchType, WarninglistIndex, load_warninglists
from garrison.intel.warninglists.networks import parse_address_range

REPO = Path(__file__).resolve().parents[1]
SHARED_LISTS = REPO.parent / "shared" / "data" / "warninglists"
TARGET_SECONDS = 2.0
T = TypeVar("T")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: on a machine shared with other
    work, wall time stretches with the load and this does not."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:>10.3f}{self.cpu:>10.3f}"


def timed(action: Callable[[], T]) -> tuple[Timing, T]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    return Timing(time.perf_counter() - wall, cpu_seconds() - cpu), result


def best_of(repeat: int, action: Callable[[], T]) -> tuple[Timing, T]:
    runs = [timed(action) for _ in range(repeat)]
    return min((timing for timing, _ in runs), key=lambda timing: timing.wall), runs[-1][1]


def random_addresses(count: int, seed: int) -> list[str]:
    """Uniform over the whole IPv4 space: about 14% fall in special-use blocks."""
    packed = np.random.default_rng(seed).integers(0, 1 << 32, count, dtype=np.uint32)
    data = packed.astype(">u4").tobytes()
    return [socket.inet_ntoa(data[i : i + 4]) for i in range(0, len(data), 4)]


def ipv4_cidr_entries(index: WarninglistIndex) -> list[str]:
    """The entries `check_addresses` uses for IPv4: every cidr list that applies to it."""
    entries: list[str] = []
    for warninglist in index.lists.values():
        if warninglist.type is MatchType.CIDR and IndicatorType.IPV4 in warninglist.indicator_types:
            entries.extend(
                entry.strip()
                for entry in warninglist.entries
                if (address := parse_address_range(entry)) and address.version == 4
            )
    return entries


def grepcidr_anchor(
    addresses: Sequence[str], entries: Sequence[str], repeat: int
) -> tuple[Timing, int] | None:
    program = shutil.which("grepcidr")
    if program is None:
        print("anchor skipped: grepcidr is not installed (apt-get install -y grepcidr)")
        return None
    with tempfile.TemporaryDirectory(prefix="garrison-warninglists-") as folder:
        patterns = Path(folder) / "patterns.txt"
        patterns.write_text("\n".join(entries) + "\n", encoding="ascii")
        values = Path(folder) / "addresses.txt"
        values.write_text("\n".join(addresses) + "\n", encoding="ascii")
        command = [program, "-x", "-c", "-f", str(patterns), str(values)]

        def run() -> int:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 1):  # 1: no line matched, as grep
                raise RuntimeError(f"grepcidr failed: {done.stderr.strip()}")
            return int(done.stdout.strip() or 0)

        return best_of(repeat, run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lists", type=Path, nargs="*", default=[SHARED_LISTS])
    args = parser.parse_args(argv)
    print(
        f"warninglist check: {args.addresses:,} random IPv4 addresses (seed {args.seed}), "
        f"best of {args.repeat}; Python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, load {load_average()}",
        flush=True,
    )
    generate_seconds, addresses = timed(lambda: random_addresses(args.addresses, args.seed))
    load_seconds, loaded = best_of(args.repeat, lambda: load_warninglists(args.lists))
    compile_seconds, index = best_of(args.repeat, lambda: WarninglistIndex(loaded.lists))
    for problem in (*loaded.problems, *index.problems):
        print(f"problem: {problem}")
    entries = ipv4_cidr_entries(index)
    check_seconds, results = best_of(args.repeat, lambda: index.check_addresses(addresses))
    listed = sum(1 for hits in results if hits)
    anchor = grepcidr_anchor(addresses, entries, args.repeat)

    rate = args.addresses / check_seconds.wall
    print(f"lists: {len(index.lists)}, IPv4 cidr entries: {len(entries):,}")
    print(f"{'step':38}{'wall s':>10}{'cpu s':>10}")
    print(f"{'generate addresses (not timed work)':38}{generate_seconds}")
    print(f"{'read warninglists (JSON)':38}{load_seconds}")
    print(f"{'compile WarninglistIndex':38}{compile_seconds}")
    print(f"{'check_addresses':38}{check_seconds}  ({rate:,.0f} addresses/s)")
    if anchor is not None:
        anchor_seconds, anchor_listed = anchor
        print(f"{'anchor: grepcidr -x -c -f':38}{anchor_seconds}")
        agree = "yes" if anchor_listed == listed else "NO"
        print(f"listed addresses: ours {listed:,}, grepcidr {anchor_listed:,} (agree: {agree})")
    else:
        print(f"listed addresses: {listed:,}")
    met = check_seconds.wall < TARGET_SECONDS
    print(f"target check_addresses < {TARGET_SECONDS} s: {'yes' if met else 'no'}")
    print(f"load average at the end: {load_average()}")
    agreed = anchor is None or anchor[1] == listed
    return 0 if met and agreed else 1


if __name__ == "__main__":
    sys.exit(main())
