"""Benchmark: importing a 1,000,000-row botnet IP list (CSV and XLSX) into the indicator store.

Times `import_document` (format botnet-list, checked against the shared MISP warninglists, whose
loading is part of the time) on SQLite and PostgreSQL, first into an empty store (every
indicator is new) and then again with the same file (everything is unchanged), each import in
a fresh child process whose peak RSS is reported. Each format is imported into a database of
its own. Anchors measured in the same run and printed beside it:

- read floor: a bare pass over the file, the csv module for CSV and python-calamine for XLSX
  (the readers the import uses);
- write floor: a bare bulk load of the same rows, already typed, into one plain table with a
  unique (ip, seen) key: `sqlite3` executemany in one transaction, or psycopg COPY FROM STDIN.

The list looks like the national authority's monthly sheets: title rows, then 'STT, Địa chỉ
IP, Thời điểm ghi nhận, Tên botnet, Số lần, ISP, ASN, Tỉnh/Thành phố, Cổng C2', public IPv4
addresses of VNPT, Viettel and FPT, local times as 'dd/mm/yyyy HH:MM:SS', and about 2% of the
addresses listed again at another time. It is generated from a seed and cached in the
temporary directory, keyed by its parameters; the XLSX is written with xlsxwriter when it is
installed (a bench-time tool only), otherwise with openpyxl's write-only mode.

Targets: each CSV import under 30 s, each XLSX import under 60 s, each under 1 GiB peak RSS.

    python benchmarks/intel_import.py [--rows 1000000] [--format csv|xlsx|both]
        [--backend sqlite|postgresql|both] [--postgres-url URL] [--lists DIR ...]

Never run by pytest.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import python_calamine
from harness import (
    REPO,
    TARGET_MIB,
    Figures,
    Result,
    cache_folder,
    fresh_postgres_database,
    in_child,
    load_average,
    measure,
    measured,
    migrated,
    postgres_server,
    print_table,
)

from garrison.core.audit import acting_as
from garrison.core.db import Database, create_database_engine
from garrison.intel.formats import FeedDocument
from garrison.intel.formats._table_rows import parse_time
from garrison.intel.importing import ImportRequest, import_document
from garrison.intel.sources import SourceSpec, add_source
from garrison.intel.warninglists import WarninglistIndex

GENERATOR_VERSION = 1
TARGET_SECONDS = {"csv": 30.0, "xlsx": 60.0}
SHARED_LISTS = REPO.parent / "shared" / "data" / "warninglists"
SOURCE = "botnet-bench"

# --- The generated list ------------------------------------------------------------------------

HEADERS = (
    *("STT", "Địa chỉ IP", "Thời điểm ghi nhận", "Tên botnet", "Số lần", "ISP", "ASN"),
    *("Tỉnh/Thành phố", "Cổng C2"),
)
TITLES = (
    "TRUNG TÂM GIÁM SÁT AN TOÀN KHÔNG GIAN MẠNG QUỐC GIA",
    "DANH SÁCH ĐỊA CHỈ IP NHIỄM MÃ ĐỘC BOTNET THÁNG 10/2026",
)
# (ISP as the lists write it, AS number, first octets of its address space, weight)
ISPS = (
    ("VNPT", "AS45899", (14, 113, 123, 222), 45),
    ("Viettel", "AS7552", (27, 116, 125, 171), 35),
    ("FPT", "AS18403", (42, 58, 118, 183), 20),
)
# (family, the ways the lists spell it, weight)
FAMILIES = (
    ("Mirai", ("Mirai", "Mirai", "Mirai (biến thể)"), 40),
    ("Conficker", ("Conficker", "Conficker/Downadup"), 25),
    ("Sality", ("Sality", "Win32.Sality.AT"), 15),
    ("Gamarue", ("Gamarue", "Gamarue (Andromeda)"), 12),
    ("Necurs", ("Necurs",), 8),
)
PROVINCES = (
    *("Hà Nội", "TP. Hồ Chí Minh", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Nghệ An", "Thanh Hóa"),
    *("Sơn La", "Lào Cai", "Thái Nguyên", "Quảng Ninh", "Bắc Ninh", "Đồng Nai", "Bình Dương"),
)
C2_FIRST_OCTETS = (31, 45, 91, 185, 193, 194, 212)
C2_PORTS = (23, 80, 443, 1024, 2323, 6667, 8080)
MONTH_START = datetime(2026, 10, 1)
MONTH_SECONDS = 31 * 86400


@dataclass(frozen=True)
class Sizes:
    rows: int
    duplicates: float
    seed: int

    @property
    def key(self) -> str:
        return f"r{self.rows}-d{self.duplicates:g}-s{self.seed}-v{GENERATOR_VERSION}"


def _addresses(rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """Endless distinct public addresses, each with its ISP and AS number."""
    seen: set[str] = set()
    weights = [isp[3] for isp in ISPS]
    while True:
        isp, asn, octets, _weight = rng.choices(ISPS, weights)[0]
        value = rng.getrandbits(24)
        address = (
            f"{rng.choice(octets)}.{value >> 16}.{(value >> 8) & 255}.{1 + (value & 255) % 254}"
        )
        if address not in seen:
            seen.add(address)
            yield address, isp, asn


def generate_rows(sizes: Sizes) -> tuple[list[tuple[Any, ...]], int]:
    """The list's data rows, the same for the same sizes and seed, and how many distinct
    addresses they hold. A repeated address is listed at another time."""
    rng = random.Random(sizes.seed)
    c2s = [
        f"{rng.choice(C2_FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}."
        f"{rng.randrange(1, 255)}:{rng.choice(C2_PORTS)}"
        for _ in range(300)
    ]
    family_weights = [family[2] for family in FAMILIES]
    fresh = _addresses(rng)
    listed: list[tuple[str, str, str]] = []
    pairs: set[tuple[str, int]] = set()
    rows: list[tuple[Any, ...]] = []
    for number in range(1, sizes.rows + 1):
        if listed and rng.random() < sizes.duplicates:
            address, isp, asn = listed[rng.randrange(len(listed))]
        else:
            address, isp, asn = next(fresh)
            listed.append((address, isp, asn))
        offset = rng.randrange(MONTH_SECONDS)
        while (address, offset) in pairs:
            offset = rng.randrange(MONTH_SECONDS)
        pairs.add((address, offset))
        seen = (MONTH_START + timedelta(seconds=offset)).strftime("%d/%m/%Y %H:%M:%S")
        spellings = rng.choices(FAMILIES, family_weights)[0][1]
        rows.append(
            (
                number,
                address,
                seen,
                rng.choice(spellings),
                1 + int(rng.expovariate(1 / 20)),
                isp,
                asn,
                rng.choice(PROVINCES),
                rng.choice(c2s),
            )
        )
    return rows, len(listed)


def write_csv(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """UTF-8 with a byte-order mark, as Excel saves it; title rows above the header."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        blank = [""] * (len(HEADERS) - 1)
        for title in TITLES:
            writer.writerow([title, *blank])
        writer.writerow([""] * len(HEADERS))
        writer.writerow(HEADERS)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[tuple[Any, ...]]) -> str:
    """Merged title rows, a blank row, the header, the rows; returns the writer used."""
    try:
        import xlsxwriter  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return _write_xlsx_openpyxl(path, rows)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_urls": False})
    sheet = workbook.add_worksheet("Botnet T10-2026")
    for row, title in enumerate(TITLES):
        sheet.merge_range(row, 0, row, len(HEADERS) - 1, title)
    sheet.write_row(len(TITLES) + 1, 0, HEADERS)
    for index, cells in enumerate(rows, len(TITLES) + 2):
        sheet.write_row(index, 0, cells)
    workbook.close()
    return f"xlsxwriter {xlsxwriter.__version__}"


def _write_xlsx_openpyxl(path: Path, rows: list[tuple[Any, ...]]) -> str:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Botnet T10-2026")
    last = get_column_letter(len(HEADERS))
    for row, title in enumerate(TITLES, 1):
        sheet.merged_cells.add(f"A{row}:{last}{row}")
        sheet.append([title])
    sheet.append([])
    sheet.append(list(HEADERS))
    for cells in rows:
        sheet.append(cells)
    workbook.save(path)
    return "openpyxl write-only"


def generate_files(sizes: Sizes, folder: str) -> Figures:
    """Write the CSV, the XLSX and what the run checks against into `folder`, each file
    appearing whole."""
    wall, cpu = time.perf_counter(), time.process_time()
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    rows, distinct = generate_rows(sizes)
    write_csv(target / "botnet.partial.csv", rows)
    writer = write_xlsx(target / "botnet.partial.xlsx", rows)
    (target / "botnet.partial.csv").replace(target / "botnet.csv")
    (target / "botnet.partial.xlsx").replace(target / "botnet.xlsx")
    (target / "list.json").write_text(json.dumps({"distinct": distinct, "writer": writer}))
    return measured(wall, cpu, sizes.rows, writer)


def prepare_files(sizes: Sizes) -> tuple[dict[str, Path], int]:
    """The list as CSV and XLSX, generated once per parameters and cached, and its number of
    distinct addresses. Generation runs in a child: the parent stays small."""
    folder = cache_folder(f"intel-botnet-{sizes.key}")
    files = {"csv": folder / "botnet.csv", "xlsx": folder / "botnet.xlsx"}
    facts = folder / "list.json"
    if all(path.is_file() for path in (*files.values(), facts)):
        print(f"list: cached in {folder}", flush=True)
    else:
        figures = in_child(generate_files, sizes, str(folder))
        print(
            f"list: generated in {folder} in {figures['seconds']:.1f} s "
            f"({figures['note']}), peak {figures['peak_mib']:.0f} MiB",
            flush=True,
        )
    for name, path in files.items():
        print(f"  {name}: {path.stat().st_size / 2**20:.1f} MiB", flush=True)
    distinct: int = json.loads(facts.read_text())["distinct"]
    return files, distinct


# --- Work done in a fresh child process, one measurement each ----------------------------------

ANCHOR_TABLE = (
    "CREATE TABLE anchor_botnet_rows (id INTEGER PRIMARY KEY, ip VARCHAR(45) NOT NULL, "
    "seen TIMESTAMP WITH TIME ZONE NOT NULL, family VARCHAR(120), count INTEGER, "
    "isp VARCHAR(300), asn INTEGER, province VARCHAR(120), c2 VARCHAR(300), "
    "UNIQUE (ip, seen))"
)
ANCHOR_COLUMNS = "id, ip, seen, family, count, isp, asn, province, c2"


def read_floor_csv(path: str) -> Figures:
    """The csv module over the whole file, cells kept: the floor of reading a CSV."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = 0
    with open(path, encoding="utf-8-sig", newline="") as source:
        for _cells in csv.reader(source):
            rows += 1
    return measured(wall, cpu, rows - len(TITLES) - 2)


def read_floor_xlsx(path: str) -> Figures:
    """python-calamine's row iterator over the sheet: the floor of reading an XLSX."""
    wall, cpu = time.perf_counter(), time.process_time()
    workbook = python_calamine.CalamineWorkbook.from_path(path)
    rows = 0
    for _cells in workbook.get_sheet_by_index(0).iter_rows():
        rows += 1
    workbook.close()
    return measured(wall, cpu, rows - len(TITLES) - 2)


def _typed_rows(csv_path: str) -> list[tuple[Any, ...]]:
    """The list's rows as the store would hold them (times in UTC, AS numbers as integers)."""
    typed: list[tuple[Any, ...]] = []
    with open(csv_path, encoding="utf-8-sig", newline="") as source:
        reader = csv.reader(source)
        for _ in range(len(TITLES) + 2):
            next(reader)
        for number, ip, seen, family, count, isp, asn, province, c2 in reader:
            moment = parse_time(seen)
            typed.append(
                (int(number), ip, moment, family, int(count), isp, int(asn[2:]), province, c2)
            )
    return typed


def write_floor_sqlite(database: str, csv_path: str) -> Figures:
    """executemany into a plain table in one transaction: the floor of writing on SQLite."""
    rows = [(*row[:2], row[2].isoformat(), *row[3:]) for row in _typed_rows(csv_path)]
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(ANCHOR_TABLE)
    wall, cpu = time.perf_counter(), time.process_time()
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO anchor_botnet_rows ({ANCHOR_COLUMNS}) VALUES ({', '.join('?' * 9)})", rows
    )
    connection.execute("COMMIT")
    figures = measured(wall, cpu, len(rows))
    connection.close()
    return figures


def write_floor_postgres(url: str, csv_path: str) -> Figures:
    """COPY FROM STDIN into a plain table in one transaction: the floor of writing on
    PostgreSQL."""
    rows = _typed_rows(csv_path)
    engine = create_database_engine(url)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None
    with connection.cursor() as cursor:
        cursor.execute(ANCHOR_TABLE)
    connection.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY anchor_botnet_rows ({ANCHOR_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    connection.commit()
    figures = measured(wall, cpu, len(rows))
    raw.close()
    engine.dispose()
    return figures


def run_import(url: str, path: str, lists: str) -> Figures:
    """One `import_document` of the list, with the warninglists loaded as the CLI loads them;
    timed without process start-up and module imports."""
    database = Database(create_database_engine(url))
    wall, cpu = time.perf_counter(), time.process_time()
    warninglists = WarninglistIndex.load([Path(folder) for folder in json.loads(lists)])
    loaded = time.perf_counter() - wall
    request = ImportRequest(SOURCE, FeedDocument.from_path(Path(path)), "botnet-list")
    with acting_as("job:benchmark"):
        run = import_document(database, request, warninglists)
    figures = measured(wall, cpu, run.rows_read)
    database.dispose()
    counts = {
        "new": run.new_count,
        "updated": run.updated_count,
        "unchanged": run.unchanged_count,
        "excluded": run.excluded_count,
        "invalid": run.invalid_count,
    }
    note = ", ".join(f"{value:,} {name}" for name, value in counts.items())
    if run.status != "succeeded":
        note = f"{run.status}: {run.error}"
    return (
        figures
        | counts
        | {
            "note": f"{note} (lists loaded in {loaded:.2f} s)",
            "succeeded": int(run.status == "succeeded"),
            "indicators": run.new_count
            + run.updated_count
            + run.unchanged_count
            + run.excluded_count,
        }
    )


# --- Databases ---------------------------------------------------------------------------------


def store_with_source(url: str) -> str:
    """A migrated database holding the source the list is imported into."""
    database = Database(create_database_engine(migrated(url)))
    with acting_as("job:benchmark"), database.session() as session:
        add_source(session, SourceSpec(SOURCE, format="botnet-list", default_expiry_days=90))
    database.dispose()
    return url


# --- Running and reporting ---------------------------------------------------------------------


def measure_imports(
    backend: str, url: str, kind: str, path: Path, distinct: int, lists: str
) -> list[Result]:
    """The first import creates every indicator; the second, of the same file, changes
    nothing."""
    unchanged = {"unchanged": 0, "updated": 0}
    phases = (
        (f"{kind} import #1 (all new)", unchanged),
        (f"{kind} import #2 (unchanged)", {"new": 0, "updated": 0}),
    )
    return [
        measure(
            backend,
            phase,
            run_import,
            url,
            str(path),
            lists,
            target_seconds=TARGET_SECONDS[kind],
            expect={"succeeded": 1, "indicators": distinct, "invalid": 0, **expect},
        )
        for phase, expect in phases
    ]


def bench_sqlite(files: dict[str, Path], rows_csv: Path, distinct: int, lists: str) -> list[Result]:
    """The write floor, then each format's two imports into a database of its own."""
    folder = Path(tempfile.mkdtemp(prefix="garrison-bench-sqlite-"))
    try:
        print(f"sqlite: {sqlite3.sqlite_version}, data dir {folder}", flush=True)
        results = [
            measure(
                "sqlite",
                "write floor (executemany)",
                write_floor_sqlite,
                str(folder / "anchor.sqlite3"),
                str(rows_csv),
            )
        ]
        for kind, path in files.items():
            url = store_with_source(f"sqlite:///{folder / f'garrison-{kind}.sqlite3'}")
            results += measure_imports("sqlite", url, kind, path, distinct, lists)
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_postgres(
    files: dict[str, Path], rows_csv: Path, distinct: int, lists: str, server: str | None
) -> list[Result]:
    """The same as on SQLite, each in a fresh database of one server."""
    with postgres_server(server) as server_url:
        with fresh_postgres_database(server_url, "anchor") as url:
            results = [
                measure(
                    "postgresql",
                    "write floor (COPY)",
                    write_floor_postgres,
                    url,
                    str(rows_csv),
                )
            ]
        for kind, path in files.items():
            with fresh_postgres_database(server_url, kind) as url:
                store_with_source(url)
                results += measure_imports("postgresql", url, kind, path, distinct, lists)
        return results


def report(reads: dict[str, Result], results: list[Result]) -> None:
    """The table, each import compared with its format's read floor plus its backend's write
    floor."""
    writes = {r.backend: r.seconds for r in results if r.phase.startswith("write")}
    compared = []
    for result in results:
        kind = result.phase.split()[0]
        if result.target_seconds is not None and kind in reads and result.backend in writes:
            floor = reads[kind].seconds + writes[result.backend]
            result = dataclasses.replace(result, floor_seconds=floor)
        compared.append(result)
    targets = ", ".join(f"{kind.upper()} under {s:.0f} s" for kind, s in TARGET_SECONDS.items())
    print_table(
        [*reads.values(), *compared],
        f"target: each import {targets}, and under {TARGET_MIB:.0f} MiB peak RSS; "
        "cpu = the child's own CPU seconds;\n"
        "x floor = import seconds / (the format's read floor + the backend's write floor)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duplicates", type=float, default=0.02, help="share of repeated IPs")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--format", choices=("csv", "xlsx", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", help="a server to use instead of a throw-away cluster")
    parser.add_argument("--lists", type=Path, nargs="*", default=[SHARED_LISTS])
    args = parser.parse_args(argv)
    if args.rows < 1 or not 0 <= args.duplicates < 1:
        parser.error("give at least one row and a share of duplicates in [0, 1)")
    sizes = Sizes(args.rows, args.duplicates, args.seed)
    print(
        f"intel import: botnet list of {sizes.rows:,} rows, {sizes.duplicates:.0%} repeated "
        f"addresses (seed {sizes.seed}); Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load {load_average()}",
        flush=True,
    )
    files, distinct = prepare_files(sizes)
    print(f"  {distinct:,} distinct addresses", flush=True)
    lists = json.dumps([str(folder) for folder in args.lists])
    readers = {"csv": ("read floor (csv module)", read_floor_csv)}
    readers["xlsx"] = ("read floor (python-calamine)", read_floor_xlsx)
    kinds = ("csv", "xlsx") if args.format == "both" else (args.format,)
    reads = {kind: measure(kind, *readers[kind], str(files[kind])) for kind in kinds}
    chosen = {kind: files[kind] for kind in kinds}
    # The write floor loads the rows as the CSV spells them, whichever format is imported.
    results: list[Result] = []
    if args.backend in ("sqlite", "both"):
        results += bench_sqlite(chosen, files["csv"], distinct, lists)
    if args.backend in ("postgresql", "both"):
        results += bench_postgres(chosen, files["csv"], distinct, lists, args.postgres_url)
    report(reads, results)
    print(f"load average at the end: {load_average()}")
    return 0 if all(r.target != "no" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
