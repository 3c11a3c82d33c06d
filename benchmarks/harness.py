"""What the import benchmarks share: each measurement in a fresh child process (its own peak
RSS), throw-away PostgreSQL servers and fresh databases, cached generated inputs, and the
results table.

Imported by the benchmark scripts beside it (`python benchmarks/NAME.py` puts this folder on
the path, and spawned children inherit it). Never run by pytest.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from garrison.core.db import create_database_engine, migrate

REPO = Path(__file__).resolve().parents[1]
TARGET_MIB = 1024.0
Figures = dict[str, Any]


# --- Work done in a fresh child process, one measurement each ----------------------------------


def peak_mib() -> float:
    """This process's own peak resident set size so far.

    Linux keeps ru_maxrss across fork and exec, so a spawned child's ru_maxrss is at least its
    parent's peak; VmHWM belongs to the child's own address space, so it is read instead.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measured(wall: float, cpu: float, rows: int, note: str = "") -> Figures:
    """Figures since the wall-clock and CPU readings `wall` and `cpu`."""
    return {
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "rows": rows,
        "peak_mib": peak_mib(),
        "note": note,
    }


def in_child(task: Callable[..., Figures], *args: Any) -> Figures:
    """Run `task` in a freshly spawned interpreter so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(task, *args).result()


def cache_folder(name: str) -> Path:
    """Where a generated input keyed by `name` (its parameters) is kept between runs."""
    return Path(tempfile.gettempdir()) / "garrison-bench" / name


# --- Databases ---------------------------------------------------------------------------------


@contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    """The given server, or a throw-away cluster stopped at the end."""
    if url:
        yield url
        return
    sys.path.insert(0, str(REPO / "tests"))
    from postgres_cluster import ThrowAwayCluster  # type: ignore[import-not-found]

    cluster = ThrowAwayCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@contextmanager
def fresh_postgres_database(server_url: str, label: str = "") -> Iterator[str]:
    """A new empty database on the server, dropped at the end; `label` tells apart several
    databases of one run."""
    name = f"garrison_bench_{os.getpid()}{'_' + label if label else ''}"
    admin = create_database_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        version = connection.execute(text("SHOW server_version")).scalar()
    print(f"postgresql: server {version}, database {name}", flush=True)
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.engine.dispose()


def migrated(url: str) -> str:
    engine = create_database_engine(url)
    migrate(engine)
    engine.dispose()
    return url


# --- Running and reporting ---------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    backend: str
    phase: str
    seconds: float
    cpu: float
    rows: int
    peak_mib: float
    note: str
    target_seconds: float | None = None
    """None: an anchor or other figure that is not judged."""
    counts_ok: bool = True
    floor_seconds: float | None = None
    """The anchors' seconds this figure is compared with (read floor + write floor)."""

    @property
    def target(self) -> str:
        if self.target_seconds is None:
            return "-"
        met = self.seconds < self.target_seconds and self.peak_mib < TARGET_MIB and self.counts_ok
        return "yes" if met else "no"


def measure(
    backend: str,
    phase: str,
    task: Callable[..., Figures],
    *args: str,
    target_seconds: float | None = None,
    expect: Mapping[str, int] | None = None,
) -> Result:
    """One task in a fresh child; `expect` names figures the task must report to pass."""
    figures = in_child(task, *args)
    expected = dict(expect or {})
    wrong = {name: figures.get(name) for name in expected if figures.get(name) != expected[name]}
    result = Result(
        backend,
        phase,
        figures["seconds"],
        figures["cpu"],
        figures["rows"],
        figures["peak_mib"],
        figures["note"],
        target_seconds=target_seconds,
        counts_ok=not wrong,
    )
    problem = f"  (expected {expected}, got {wrong})" if wrong else ""
    print(
        f"  {backend:<10} {phase:<28} {result.seconds:7.1f} s  cpu {result.cpu:6.1f} s  "
        f"peak {result.peak_mib:5.0f} MiB  {result.note}{problem}",
        flush=True,
    )
    return result


def print_table(results: Sequence[Result], legend: str) -> None:
    """One line per result; `legend` says what the targets and floors are."""
    print()
    print(legend)
    header = ("backend", "phase", "rows", "seconds", "cpu s", "rows/s", "peak MiB", "x floor")
    phase_width = max(len("phase"), *(len(result.phase) for result in results))
    line = f"{{:<10}} {{:<{phase_width}}} {{:>9}} {{:>8}} {{:>7}} {{:>9}} {{:>8}} {{:>7}} {{:>6}}"
    print(line.format(*header, "target"))
    print(line.format(*("-" * len(h) for h in (*header, "target"))))
    for result in results:
        ratio = f"{result.seconds / result.floor_seconds:.1f}" if result.floor_seconds else ""
        print(
            line.format(
                result.backend,
                result.phase,
                f"{result.rows:,}",
                f"{result.seconds:.2f}",
                f"{result.cpu:.1f}",
                f"{result.rows / result.seconds:,.0f}" if result.seconds else "-",
                f"{result.peak_mib:.0f}",
                ratio,
                result.target,
            )
        )


def load_average() -> str:
    """The machine's 1-minute load: figures from a busy machine are not comparable."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"
