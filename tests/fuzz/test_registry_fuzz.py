"""Property tests: whatever people put in a spreadsheet, the registry import fails only cleanly.

Parsers raise only their own typed errors; an import either succeeds (and a second run
changes nothing) or raises InputError having written nothing. Database examples use SQLite.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from garrison.core.audit import AuditEvent
from garrison.core.db import Database, create_database_engine
from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular import Record, TableSpec, normalise_header, read_tables
from garrison.orgs.addresses import AddressError, parse_address, parse_network
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)
from garrison.orgs.registry_import import import_registry
from garrison.orgs.registry_rows import RegistryRow, parse_record
from garrison.orgs.registry_tables import REGISTRY_TABLES

LIMIT = 1024 * 1024
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SPECS = {spec.name: spec for spec in REGISTRY_TABLES}

# Values that reach past the first checks: real-looking names, kinds, addresses and dates,
# some of them wrong on purpose.
PLAUSIBLE = [
    "Sở Y tế",
    "Sở Tài chính",
    "SYT",
    "STC",
    "sở y tế",
    "department",
    "Khác",
    "District People's Committee",
    "bộ",
    "203.0.113.0/24",
    "203.0.113.77/24",
    "2001:db8::/32",
    "203.0.113.10, 2001:db8::1",
    "148.81.111.11.12",
    "fe80::1%eth0",
    "sonla.gov.vn",
    "sởtàichính.vn",
    "https://x.vn",
    "Cổng thông tin",
    "III",
    "cấp độ 7",
    "05/03/2024",
    "31/02/2024",
    "x",
    "có",
    "an@syt.gov.vn",
    "an.syt.gov.vn",
    "0912345678; 0223",
    "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*",
    "cpe:/a:f5:nginx",
    "pkg:pypi/django@4.2",
    "=1+1",
    "",
]
# Good values per field, so that some generated files import and exercise the writing path.
FIELD_VALUES = {
    "organisation": ["Sở Y tế", "SYT", "sở tài chính", "STC"],
    "name": ["Sở Y tế", "Sở Tài chính", "Cổng thông tin", "Nguyễn Văn An"],
    "short_name": ["SYT", "STC", ""],
    "kind": ["department", "Khác", "other"],
    "parent": ["", "Sở Y tế", "STC"],
    "network": ["203.0.113.0/24", "198.51.100.7/24", "2001:db8::/32"],
    "addresses": ["", "203.0.113.10", "203.0.113.10; 2001:db8::1"],
    "hostnames": ["", "www.syt.gov.vn", "cổng.vn"],
    "domain": ["syt.gov.vn", "sởtàichính.vn"],
    "asset": ["Cổng thông tin", "Sở Y tế"],
    "security_level": ["", "3", "III"],
    "level_approved_on": ["", "2024-03-05"],
    "internet_facing": ["", "x", "không"],
    "email": ["", "an@syt.gov.vn"],
    "phones": ["", "0912345678; 0223"],
    "language": ["", "vi", "English"],
    "cpe": ["", "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*"],
    "purl": ["", "pkg:pypi/django@4.2"],
    "product": ["nginx", "Exchange Server"],
}
printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)
cells = st.one_of(st.text(max_size=40), printable, st.sampled_from(PLAUSIBLE))


def field_cells(field_name: str, wild: bool) -> st.SearchStrategy[str]:
    """Good values for the field; in a wild file, anything at all in two cells of ten."""
    good = st.sampled_from(FIELD_VALUES.get(field_name, ["", "ghi chú, 1"]))
    return st.one_of(*[good] * 8, printable, cells) if wild else good


ip_like = st.text(alphabet="0123456789abcdefABCDEF:./%x ", max_size=50)


# Stored before the examples run, so that generated rows have organisations to refer to.
SEED = {
    "organisations": [
        ["Tên đơn vị", "Tên viết tắt", "Loại đơn vị"],
        ["Sở Y tế", "SYT", "department"],
        ["Sở Tài chính", "STC", "department"],
    ],
    "assets": [["Đơn vị", "Tên tài sản"], ["SYT", "Cổng thông tin"], ["STC", "Cổng thông tin"]],
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def sqlite_database(workdir: Path, sqlite_template: Path) -> Iterator[Database]:
    """One migrated SQLite file for every example of the module."""
    path = workdir / "fuzz.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(create_database_engine(f"sqlite:///{path}"))
    for name, rows in SEED.items():
        seed = workdir / f"{name}.csv"
        with seed.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        import_registry(database, seed, max_bytes=LIMIT)
    try:
        yield database
    finally:
        database.dispose()


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    models = (Organisation, Contact, Network, Domain, Asset, AssetAddress, Component, AuditEvent)
    with database.session() as session:
        return {
            model.__tablename__: [tuple(r) for r in session.execute(select(model.__table__))]
            for model in models
        }


@FUZZ
@given(st.text())
def test_normalise_header_is_idempotent_and_plain(text: str) -> None:
    once = normalise_header(text)
    assert normalise_header(once) == once
    assert once == once.strip()
    assert set(once) <= set("abcdefghijklmnopqrstuvwxyz0123456789 ")
    assert "  " not in once


@FUZZ
@given(st.sampled_from(REGISTRY_TABLES), st.lists(st.one_of(st.text(max_size=20), cells)))
def test_header_matching_never_crashes(spec: TableSpec, header: list[str]) -> None:
    match = spec.match_header(header)
    assert all(0 <= index < len(header) for index in match.columns)
    assert set(match.columns.values()) <= {column.field for column in spec.columns}
    for field_name, indexes in match.duplicates:
        assert len(indexes) > 1
        assert all(spec.match_header([header[i]]).fields() == {field_name} for i in indexes)


@st.composite
def records(draw: st.DrawFn) -> tuple[str, Record]:
    table = draw(st.sampled_from(list(SPECS)))
    fields = [column.field for column in SPECS[table].columns]
    values = draw(st.dictionaries(st.sampled_from(fields), cells))
    headers = {name: f"cột {name}" for name in fields}
    return table, Record("fuzz.csv", None, 2, values, headers)


@FUZZ
@given(records())
def test_parse_record_returns_a_row_or_a_located_problem(drawn: tuple[str, Record]) -> None:
    table, record = drawn
    result: RegistryRow | RowProblem = parse_record(table, record)
    if isinstance(result, RowProblem):
        assert (result.file, result.row) == ("fuzz.csv", 2)
        assert result.reason
        assert result.column is None or result.column.startswith("cột ")
    else:
        assert result.record is record


@FUZZ
@given(st.one_of(st.text(), ip_like))
def test_address_parsers_raise_only_address_errors(text: str) -> None:
    for parse in (parse_address, parse_network):
        try:
            parse(text)
        except AddressError as exc:
            assert str(exc)


def _encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


file_bytes = st.one_of(
    st.binary(max_size=3000),
    st.builds(
        _encoded,
        st.text(max_size=300),
        st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1258", "latin-1"]),
    ),
    st.builds(
        lambda header, body: codecs.BOM_UTF8 + (header + "\n" + body).encode(),
        st.sampled_from(["Tên đơn vị,Loại", "Đơn vị;Dải IP", "organisation\tnetwork"]),
        st.text(max_size=300),
    ),
)


@FUZZ
@given(data=file_bytes)
def test_read_tables_on_any_bytes_returns_tables_or_input_error(workdir: Path, data: bytes) -> None:
    path = workdir / "any.csv"
    path.write_bytes(data)
    try:
        tables = read_tables(path, REGISTRY_TABLES, max_bytes=LIMIT)
    except InputError as exc:
        assert exc.problems
        assert all(problem.file == "any.csv" and problem.reason for problem in exc.problems)
        return
    for table in tables:
        assert all(record.row > table.header_row for record in table.records)


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    """A CSV of one registry table: a real header spelling per column, any cells below."""
    spec = draw(st.sampled_from(REGISTRY_TABLES))
    columns = [column for column in spec.columns if column.required or draw(st.booleans())]
    header = [draw(st.sampled_from((column.field, *column.aliases))) for column in columns]
    wild = draw(st.booleans())
    row = st.tuples(*(field_cells(column.field, wild) for column in columns))
    rows = draw(st.lists(row, max_size=5))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t"]))).writerows([header, *rows])
    return buffer.getvalue()


@FUZZ
@given(content=csv_files())
def test_any_csv_imports_idempotently_or_writes_nothing(
    sqlite_database: Database, workdir: Path, content: str
) -> None:
    path = workdir / "registry.csv"
    path.write_text(content, encoding="utf-8")
    before = snapshot(sqlite_database)
    try:
        report = import_registry(sqlite_database, path, max_bytes=LIMIT)
    except InputError as exc:
        assert exc.problems
        assert snapshot(sqlite_database) == before
        return
    assert report.rows >= 0
    after = snapshot(sqlite_database)
    again = import_registry(sqlite_database, path, max_bytes=LIMIT)
    assert not again.changed
    assert snapshot(sqlite_database) == after
