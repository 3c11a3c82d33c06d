"""Benchmark: registry import of organisations, networks and assets from one XLSX workbook.

Times `import_registry` on SQLite and PostgreSQL, first on an empty registry (everything is
created) and then again with the same file (everything is unchanged), and reports each import's
peak memory (the peak RSS of a fresh child process that runs only that import). Two anchors are
measured in the same run and printed beside it:

- read floor: a bare openpyxl read-only pass over the same workbook (values only);
- write floor: a bare bulk load of the same rows, plus the assets' addresses, into plain tables
  with the same columns and unique keys (no foreign keys, secondary indexes or audit rows):
  `sqlite3` executemany in one transaction, or psycopg COPY FROM STDIN.

Target: each import under 60 s and under 1 GiB peak RSS at 5,000 organisations, 50,000
networks and 100,000 assets. The workbook is generated from a seed and cached in the temporary
directory, keyed by its parameters.

    python benchmarks/registry_import.py [--organisations 5000 --networks 50000 --assets 100000]
        [--backend sqlite|postgresql|both] [--postgres-url URL]

Never run by pytest.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any

from harness import (
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
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from garrison.core.audit import acting_as
from garrison.core.db import Database, create_database_engine
from garrison.orgs.addresses import IPAddress, IPNetwork, address_key
from garrison.orgs.registry_import import import_registry

GENERATOR_VERSION = 1
MAX_IMPORT_BYTES = 1 << 30
TARGET_SECONDS = 60.0

# --- The generated registry -------------------------------------------------------------------

# (code, label people write in the "Loại đơn vị" column, name pattern, short-name prefix, weight)
KINDS = (
    ("department", "Sở, ban, ngành", "Sở {field} tỉnh {place}", "S", 40),
    ("district", "UBND cấp huyện", "UBND huyện {place}", "H", 25),
    ("telecom", "Doanh nghiệp viễn thông", "Công ty Viễn thông {place}", "VT", 5),
    ("enterprise", "Doanh nghiệp", "Công ty Cổ phần {field} {place}", "DN", 20),
    ("other", "Khác", "Trung tâm {field} {place}", "TT", 10),
)
PLACES: tuple[str, ...] = (
    *("Sơn La", "Điện Biên", "Lai Châu", "Lào Cai", "Yên Bái", "Hà Giang", "Tuyên Quang"),
    *("Cao Bằng", "Bắc Kạn", "Thái Nguyên", "Lạng Sơn", "Hòa Bình", "Phú Thọ", "Nghệ An"),
)
FIELDS: tuple[str, ...] = (
    *("Tài chính", "Nội vụ", "Y tế", "Giáo dục và Đào tạo", "Tư pháp", "Xây dựng"),
    *("Công Thương", "Khoa học và Công nghệ", "Nông nghiệp và Môi trường", "Du lịch"),
)
# First octets of IPv4 space Vietnamese operators hold, and their IPv6 /32s.
V4_FIRST_OCTETS: tuple[int, ...] = (
    *(14, 27, 42, 45, 58, 101, 103, 113, 115, 116, 117, 118, 119, 123, 125, 171),
    *(180, 183, 203, 210, 222),
)
V6_PREFIXES = ("2001:ee0", "2402:800", "2405:4800")
NETWORK_NOTES = ("Mạng LAN trụ sở", "Vùng DMZ", "Mạng truyền số liệu chuyên dùng", "", "")
ASSET_KINDS = ("Máy chủ", "Hệ thống thông tin", "Thiết bị mạng", "Máy trạm", "Cổng thông tin")
SYSTEMS = ("Ubuntu 22.04", "Windows Server 2019", "CentOS 7", "Red Hat Enterprise Linux 9", "")
INTERNET = (("Có", True), ("Không", False), ("x", True), ("", False))
ROMAN = ("I", "II", "III", "IV", "V")

ORG_HEADERS = ("Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Đơn vị cấp trên")
NETWORK_HEADERS = ("Đơn vị", "Dải IP", "Mô tả")
ASSET_HEADERS: tuple[str, ...] = (
    *("Đơn vị", "Tên tài sản", "Loại tài sản", "Địa chỉ IP", "Tên máy"),
    *("Hệ điều hành", "Cấp độ", "Ngày phê duyệt", "Kết nối Internet"),
)
ANCHOR_TABLES = {
    "anchor_organisations": (
        "id INTEGER PRIMARY KEY, name VARCHAR(300) NOT NULL UNIQUE, short_name VARCHAR(60) "
        "UNIQUE, kind_code VARCHAR(30) NOT NULL, parent_id INTEGER, notes TEXT"
    ),
    "anchor_networks": (
        "id INTEGER PRIMARY KEY, cidr VARCHAR(50) NOT NULL UNIQUE, version INTEGER NOT NULL, "
        "prefix_length INTEGER NOT NULL, first_key VARCHAR(33) NOT NULL, last_key VARCHAR(33) "
        "NOT NULL, organisation_id INTEGER NOT NULL, description TEXT"
    ),
    "anchor_assets": (
        "id INTEGER PRIMARY KEY, organisation_id INTEGER NOT NULL, name VARCHAR(300) NOT NULL, "
        "kind VARCHAR(60), hostnames TEXT NOT NULL, operating_system VARCHAR(200), "
        "security_level INTEGER, level_approved_on DATE, internet_facing BOOLEAN NOT NULL, "
        "notes TEXT, UNIQUE (organisation_id, name)"
    ),
    "anchor_asset_addresses": (
        "id INTEGER PRIMARY KEY, asset_id INTEGER NOT NULL, address VARCHAR(45) NOT NULL, "
        "key VARCHAR(33) NOT NULL, UNIQUE (asset_id, address)"
    ),
}
AnchorRows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Sizes:
    organisations: int
    networks: int
    assets: int
    seed: int

    @property
    def rows(self) -> int:
        return self.organisations + self.networks + self.assets

    @property
    def key(self) -> str:
        return (
            f"o{self.organisations}-n{self.networks}-a{self.assets}"
            f"-s{self.seed}-v{GENERATOR_VERSION}"
        )


@dataclass
class Generated:
    """Spreadsheet cells per sheet, and the same registry as plain rows for the write floor."""

    sheets: dict[str, tuple[str, Sequence[str], list[tuple[Any, ...]]]]
    anchor: AnchorRows


def _public_v4_networks(rng: random.Random, count: int) -> list[IPv4Network]:
    """Distinct global /24–/29 networks, each alone in its /24."""
    slots = rng.sample(
        range(len(V4_FIRST_OCTETS) << 16), min(count * 2, len(V4_FIRST_OCTETS) << 16)
    )
    found: list[IPv4Network] = []
    for slot in slots:
        prefix = rng.choice((24, 24, 25, 26, 27, 28, 29, 29))
        offset = rng.randrange(1 << (prefix - 24)) << (32 - prefix)
        octets = (V4_FIRST_OCTETS[slot >> 16], (slot >> 8) & 255, slot & 255, offset)
        network = IPv4Network(f"{'.'.join(map(str, octets))}/{prefix}")
        if network.is_global:
            found.append(network)
            if len(found) == count:
                return found
    raise ValueError(f"cannot draw {count} public IPv4 networks")


def _public_v6_networks(rng: random.Random, count: int) -> list[IPv6Network]:
    """Distinct global /48–/64 networks, each in its own /48."""
    found: list[IPv6Network] = []
    for index in range(count):
        base, third = V6_PREFIXES[index % len(V6_PREFIXES)], index // len(V6_PREFIXES)
        prefix = rng.choice((48, 52, 56, 60, 64))
        fourth = rng.randrange(1 << (prefix - 48)) << (64 - prefix) if prefix > 48 else 0
        found.append(IPv6Network(f"{base}:{third:x}:{fourth:x}::/{prefix}"))
    return found


def _host_in(rng: random.Random, network: IPNetwork) -> IPAddress:
    if network.version == 4:
        return network.network_address + rng.randrange(1, network.num_addresses - 1)
    return network.network_address + rng.randrange(1, 1 << 16)


def generate(sizes: Sizes) -> Generated:
    """The same registry for the same sizes and seed: cells for XLSX, rows for the floor."""
    rng = random.Random(sizes.seed)
    first_day = date(2017, 1, 1)
    org_cells: list[tuple[Any, ...]] = []
    orgs: list[tuple[Any, ...]] = []
    weights = [kind[4] for kind in KINDS]
    for index in range(sizes.organisations):
        code, label, pattern, prefix, _weight = rng.choices(KINDS, weights)[0]
        name = pattern.format(field=rng.choice(FIELDS), place=rng.choice(PLACES))
        name = f"{name} – cơ sở {index + 1}"
        short = f"{prefix}{index + 1:05d}"
        parent = rng.randrange(index) if index and rng.random() < 0.3 else None
        parent_cell = None
        if parent is not None:
            parent_cell = orgs[parent][2] if rng.random() < 0.4 else orgs[parent][1]
        orgs.append((index + 1, name, short, code, None if parent is None else parent + 1, None))
        org_cells.append((name, short, label if rng.random() < 0.8 else code, parent_cell))

    def reference(org: int) -> str:
        return str(orgs[org][2] if rng.random() < 0.3 else orgs[org][1])

    v6_count = sizes.networks // 10
    networks: list[IPNetwork] = [*_public_v4_networks(rng, sizes.networks - v6_count)]
    networks += _public_v6_networks(rng, v6_count)
    rng.shuffle(networks)
    owners = [index % sizes.organisations for index in range(sizes.networks)]
    rng.shuffle(owners)
    by_org: dict[int, list[IPNetwork]] = {}
    network_cells: list[tuple[Any, ...]] = []
    network_rows: list[tuple[Any, ...]] = []
    for index, (owner, network) in enumerate(zip(owners, networks, strict=True)):
        by_org.setdefault(owner, []).append(network)
        note = rng.choice(NETWORK_NOTES)
        network_cells.append((reference(owner), network.with_prefixlen, note or None))
        network_rows.append(
            (
                index + 1,
                network.with_prefixlen,
                network.version,
                network.prefixlen,
                address_key(network.network_address),
                address_key(network.broadcast_address),
                owner + 1,
                note or None,
            )
        )

    holders = sorted(by_org)
    asset_cells: list[tuple[Any, ...]] = []
    asset_rows: list[tuple[Any, ...]] = []
    address_rows: list[tuple[Any, ...]] = []
    for index in range(sizes.assets):
        owner = holders[rng.randrange(len(holders))]
        kind = rng.choice(ASSET_KINDS)
        name = f"{kind} {index + 1:06d}"
        addresses: list[IPAddress] = []
        for _ in range(1 if rng.random() < 0.7 else 2):
            for _attempt in range(10):
                address = _host_in(rng, rng.choice(by_org[owner]))
                if address not in addresses:
                    addresses.append(address)
                    break
        hostnames = (
            [f"srv{index + 1}.{orgs[owner][2].lower()}.gov.vn"] if rng.random() < 0.6 else []
        )
        system = rng.choice(SYSTEMS) or None
        level = rng.randint(1, 5) if rng.random() < 0.9 else None
        level_cell: Any = level
        if level is not None and rng.random() < 0.2:
            level_cell = rng.choice((f"Cấp độ {level}", ROMAN[level - 1]))
        approved = first_day + timedelta(days=rng.randrange(3000)) if level else None
        approved_cell: Any = approved
        if approved is not None and rng.random() < 0.3:
            approved_cell = approved.strftime("%d/%m/%Y")
        internet_cell, internet = rng.choice(INTERNET)
        asset_cells.append(
            (
                reference(owner),
                name,
                kind,
                ", ".join(map(str, addresses)),
                " ".join(hostnames) or None,
                system,
                level_cell,
                approved_cell,
                internet_cell or None,
            )
        )
        names = json.dumps(hostnames)
        asset_rows.append((index + 1, owner + 1, name, kind, names, system, level, approved))
        asset_rows[-1] += (internet, None)
        for address in sorted(addresses, key=address_key):
            key = address_key(address)
            address_rows.append((len(address_rows) + 1, index + 1, str(address), key))
    return Generated(
        {
            "Đơn vị": ("DANH SÁCH ĐƠN VỊ, CƠ QUAN", ORG_HEADERS, org_cells),
            "Dải IP": ("DANH SÁCH DẢI ĐỊA CHỈ IP CÔNG KHAI", NETWORK_HEADERS, network_cells),
            "Tài sản": ("DANH MỤC TÀI SẢN, HỆ THỐNG THÔNG TIN", ASSET_HEADERS, asset_cells),
        },
        {
            "anchor_organisations": orgs,
            "anchor_networks": network_rows,
            "anchor_assets": asset_rows,
            "anchor_asset_addresses": address_rows,
        },
    )


def write_workbook(path: Path, generated: Generated) -> None:
    """One sheet per table: a merged title row, the header row, then the data rows."""
    workbook = Workbook(write_only=True)
    for sheet_name, (title, headers, rows) in generated.sheets.items():
        sheet = workbook.create_sheet(sheet_name)
        sheet.merged_cells.add(f"A1:{get_column_letter(len(headers))}1")
        sheet.append([title])
        sheet.append(list(headers))
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def generate_files(sizes: Sizes, folder: str) -> Figures:
    """Write the workbook and the floor's rows into `folder`, each file appearing whole."""
    wall, cpu = time.perf_counter(), time.process_time()
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    generated = generate(sizes)
    partial = target / "registry.partial.xlsx"
    write_workbook(partial, generated)
    with (target / "anchor-rows.partial").open("wb") as out:
        pickle.dump(generated.anchor, out, protocol=pickle.HIGHEST_PROTOCOL)
    (target / "anchor-rows.partial").replace(target / "anchor-rows.pickle")
    partial.replace(target / "registry.xlsx")
    return measured(wall, cpu, sizes.rows)


def prepare_files(sizes: Sizes) -> tuple[Path, Path]:
    """The workbook and the floor's rows, generated once per parameters and cached.

    Generation runs in a child too: the parent stays small, so it adds nothing to the peaks.
    """
    folder = cache_folder(f"registry-{sizes.key}")
    workbook, rows = folder / "registry.xlsx", folder / "anchor-rows.pickle"
    if workbook.is_file() and rows.is_file():
        size = workbook.stat().st_size / 2**20
        print(f"workbook: cached {workbook} ({size:.1f} MiB)", flush=True)
        return workbook, rows
    figures = in_child(generate_files, sizes, str(folder))
    size = workbook.stat().st_size / 2**20
    print(
        f"workbook: generated {workbook} ({size:.1f} MiB) in {figures['seconds']:.1f} s, "
        f"peak {figures['peak_mib']:.0f} MiB",
        flush=True,
    )
    return workbook, rows


# --- Work done in a fresh child process, one measurement each ----------------------------------


def read_floor(workbook: str) -> Figures:
    """openpyxl's read-only pass over every sheet, values only: the floor of reading."""
    wall, cpu = time.perf_counter(), time.process_time()
    book = load_workbook(workbook, read_only=True, data_only=False)
    rows = 0
    for sheet in book.worksheets:
        for _values in sheet.iter_rows(min_row=3, values_only=True):
            rows += 1
    book.close()
    return measured(wall, cpu, rows)


def _load_anchor(rows_file: str) -> AnchorRows:
    with open(rows_file, "rb") as source:
        loaded: AnchorRows = pickle.load(source)
    return loaded


def _entity_rows(rows: AnchorRows) -> int:
    return sum(len(batch) for name, batch in rows.items() if name != "anchor_asset_addresses")


def _note(rows: AnchorRows) -> str:
    return f"+ {len(rows['anchor_asset_addresses']):,} addresses"


def _column_names(table: str) -> list[str]:
    columns = ANCHOR_TABLES[table].split(", UNIQUE (")[0]
    return [definition.split()[0] for definition in columns.split(", ")]


def write_floor_sqlite(database: str, rows_file: str) -> Figures:
    """executemany into plain tables in one transaction: the floor of writing on SQLite."""
    rows = _load_anchor(rows_file)
    rows["anchor_assets"] = [
        (*row[:7], row[7] and row[7].isoformat(), *row[8:]) for row in rows["anchor_assets"]
    ]
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    for table, columns in ANCHOR_TABLES.items():
        connection.execute(f"CREATE TABLE {table} ({columns})")
    wall, cpu = time.perf_counter(), time.process_time()
    connection.execute("BEGIN")
    for table, batch in rows.items():
        names = _column_names(table)
        marks = ", ".join("?" * len(names))
        connection.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", batch)
    connection.execute("COMMIT")
    figures = measured(wall, cpu, _entity_rows(rows), _note(rows))
    connection.close()
    return figures


def write_floor_postgres(url: str, rows_file: str) -> Figures:
    """COPY FROM STDIN into plain tables in one transaction: the floor of writing on PostgreSQL."""
    rows = _load_anchor(rows_file)
    engine = create_database_engine(url)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert connection is not None
    with connection.cursor() as cursor:
        for table, columns in ANCHOR_TABLES.items():
            cursor.execute(f"CREATE TABLE {table} ({columns})")
    connection.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    with connection.cursor() as cursor:
        for table, batch in rows.items():
            with cursor.copy(
                f"COPY {table} ({', '.join(_column_names(table))}) FROM STDIN"
            ) as copy:
                for row in batch:
                    copy.write_row(row)
    connection.commit()
    figures = measured(wall, cpu, _entity_rows(rows), _note(rows))
    raw.close()
    engine.dispose()
    return figures


def run_import(url: str, workbook: str) -> Figures:
    """One `import_registry` of the workbook, timed without process start-up and imports."""
    database = Database(create_database_engine(url))
    wall, cpu = time.perf_counter(), time.process_time()
    with acting_as("job:benchmark"):
        report = import_registry(database, Path(workbook), max_bytes=MAX_IMPORT_BYTES)
    figures = measured(wall, cpu, report.rows)
    database.dispose()
    created = sum(count.created for count in report.counts.values())
    updated = sum(count.updated for count in report.counts.values())
    unchanged = sum(count.unchanged for count in report.counts.values())
    note = f"{created:,} created, {updated:,} updated, {unchanged:,} unchanged"
    return figures | {"note": note, "created": created, "unchanged": unchanged}


# --- Running and reporting ---------------------------------------------------------------------


def measure_imports(backend: str, url: str, workbook: Path, expected: int) -> list[Result]:
    """The first import creates every row; the second, of the same file, changes nothing."""
    return [
        measure(
            backend,
            phase,
            run_import,
            url,
            str(workbook),
            target_seconds=TARGET_SECONDS,
            expect={field: expected},
        )
        for phase, field in (
            ("import #1 (all created)", "created"),
            ("import #2 (unchanged)", "unchanged"),
        )
    ]


def bench_sqlite(workbook: Path, rows_file: Path, expected: int) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="garrison-bench-sqlite-"))
    try:
        print(f"sqlite: {sqlite3.sqlite_version}, data dir {folder}", flush=True)
        floor = measure(
            "sqlite",
            "write floor (executemany)",
            write_floor_sqlite,
            str(folder / "anchor.sqlite3"),
            str(rows_file),
        )
        url = migrated(f"sqlite:///{folder / 'garrison.sqlite3'}")
        return [floor, *measure_imports("sqlite", url, workbook, expected)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_postgres(
    workbook: Path, rows_file: Path, expected: int, server: str | None
) -> list[Result]:
    with postgres_server(server) as server_url, fresh_postgres_database(server_url) as url:
        floor = measure(
            "postgresql", "write floor (COPY)", write_floor_postgres, url, str(rows_file)
        )
        return [floor, *measure_imports("postgresql", migrated(url), workbook, expected)]


def report(results: list[Result], read: Result) -> None:
    """The table, each import compared with the read floor plus its backend's write floor."""
    floors = {r.backend: r.seconds + read.seconds for r in results if r.phase.startswith("write")}
    compared = [
        dataclasses.replace(result, floor_seconds=floors.get(result.backend))
        if result.target_seconds is not None
        else result
        for result in results
    ]
    print_table(
        [read, *compared],
        f"target: each import under {TARGET_SECONDS:.0f} s and under {TARGET_MIB:.0f} MiB peak "
        "RSS; cpu = the child's own CPU seconds;\n"
        "x floor = import seconds / (read floor + write floor seconds)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--organisations", type=int, default=5000)
    parser.add_argument("--networks", type=int, default=50000)
    parser.add_argument("--assets", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=85)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url", help="a server to use instead of a throw-away cluster")
    args = parser.parse_args(argv)
    if min(args.organisations, args.networks) < 1 or args.assets < 0:
        parser.error("give at least one organisation and one network")
    sizes = Sizes(args.organisations, args.networks, args.assets, args.seed)
    print(
        f"registry import: {sizes.organisations:,} organisations, {sizes.networks:,} networks, "
        f"{sizes.assets:,} assets (seed {sizes.seed}); Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load {load_average()}",
        flush=True,
    )
    workbook, rows_file = prepare_files(sizes)
    read = measure("xlsx", "read floor (openpyxl)", read_floor, str(workbook))
    results: list[Result] = []
    if args.backend in ("sqlite", "both"):
        results += bench_sqlite(workbook, rows_file, sizes.rows)
    if args.backend in ("postgresql", "both"):
        results += bench_postgres(workbook, rows_file, sizes.rows, args.postgres_url)
    report(results, read)
    print(f"load average at the end: {load_average()}")
    return 0 if all(r.target != "no" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
