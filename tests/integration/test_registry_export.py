"""Exporting the registry to XLSX and CSV, and reading every export back without a change.

Every test runs on a real SQLite file and a real PostgreSQL server.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import delete, select

from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.core.errors import GarrisonError
from garrison.core.model import table_of
from garrison.orgs.models import Organisation
from garrison.orgs.registry_export import export_registry, registry_rows
from garrison.orgs.registry_import import TABLE_ORDER, ImportReport, import_registry
from garrison.orgs.registry_tables import REGISTRY_TABLES

pytestmark = pytest.mark.db

LIMIT = 10 * 1024 * 1024
Sheets = dict[str, list[list[Any]]]

# Values chosen to be hard to carry through a file: separators, quotes, line breaks, text that
# spreadsheet programs take for formulas or numbers, IPv6, internationalised names, dates.
SAMPLE: Sheets = {
    "organisations": [
        ["Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Đơn vị cấp trên", "Ghi chú"],
        ["Sở Thông tin và Truyền thông", "STTTT", "coordinator", "", '=SUM(A1:A2), "trực"'],
        ["Ủy ban nhân dân huyện Mộc Châu", "UBND-MC", "district", "STTTT", "Dòng 1\nDòng 2; ổn"],
        ['Công ty Viễn thông "Tây Bắc"', "", "telecom", "", "+84 212 3852 111"],
        ["Ban Quản lý dự án", "BQLDA", "other", "UBND-MC", "-1"],
    ],
    "contacts": [
        ["Đơn vị", "Họ và tên", "Chức vụ", "Email", "Số điện thoại", "Ngôn ngữ"],
        ["STTTT", "Nguyễn Văn An", "Trưởng phòng, CNTT", "an@stttt.gov.vn", "0912345678;0223", ""],
        ["UBND-MC", "Peter O'Neil", "@advisor", "", "", "English"],
    ],
    "networks": [
        ["Đơn vị", "Dải IP", "Mô tả"],
        ["STTTT", "203.0.113.0/24", "LAN, tầng 3"],
        ["STTTT", "203.0.113.128/25", ""],
        ["UBND-MC", "2001:db8:abcd::/48", "=1+1"],
    ],
    "domains": [
        ["Đơn vị", "Tên miền"],
        ["STTTT", "stttt.sonla.gov.vn"],
        ["UBND-MC", "mộcchâu.vn"],
    ],
    "assets": [
        [
            "Đơn vị",
            "Tên tài sản",
            "Loại tài sản",
            "Địa chỉ IP",
            "Tên máy",
            "Hệ điều hành",
            "Cấp độ",
            "Ngày phê duyệt",
            "Kết nối Internet",
            "Ghi chú",
        ],
        [
            "STTTT",
            "Cổng thông tin, điện tử",
            "web",
            "203.0.113.10; 2001:db8:abcd::10 203.0.113.9",
            "www.stttt.sonla.gov.vn, cổng.vn",
            "Ubuntu 22.04",
            "cấp độ 3",
            "05/03/2024",
            "có",
            "0001",
        ],
        ["UBND-MC", "Máy trạm 01", "", "", "", "", "", "", "", ""],
    ],
    "components": [
        ["Đơn vị", "Tài sản", "CPE", "purl", "Nhà cung cấp", "Phần mềm", "Phiên bản"],
        [
            "STTTT",
            "Cổng thông tin, điện tử",
            r"cpe:2.3:a:f5:nginx\:plus:1.24.0:*:*:*:*:*:*:*",
            "",
            "",
            "",
            "",
        ],
        ["STTTT", "Cổng thông tin, điện tử", "", "pkg:pypi/django@4.2.1", "", "", ""],
        ["UBND-MC", "Máy trạm 01", "", "", "Microsoft", "Office", "2016"],
    ],
}
COUNTS = {name: len(rows) - 1 for name, rows in SAMPLE.items()}


def write_xlsx(path: Path, sheets: Sheets) -> Path:
    """Every value as a text cell, so that '=1+1' is the text a person typed."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row_number, row in enumerate(rows, 1):
            for column, value in enumerate(row, 1):
                if value:
                    cell = sheet.cell(row_number, column, value)
                    cell.data_type = "s"
    workbook.save(path)
    return path


def import_file(database: Database, path: Path) -> ImportReport:
    return import_registry(database, path, max_bytes=LIMIT)


def unchanged(report: ImportReport, tables: list[str]) -> None:
    assert {name: (c.created, c.updated) for name, c in report.counts.items() if c.total} == {
        name: (0, 0) for name in tables
    }
    assert {name: report.counts[name].unchanged for name in tables} == {
        name: COUNTS[name] for name in tables
    }
    assert report.warnings == []


def registry_text(database: Database) -> dict[str, list[list[str]]]:
    """Every table as the English export renders it: what a person would compare."""
    with database.session() as session:
        return {table: list(registry_rows(session, table, "en")) for table in TABLE_ORDER}


def audit_count(database: Database) -> int:
    with database.session() as session:
        return len(session.scalars(select(AuditEvent.id)).all())


def export(database: Database, path: Path, **options: Any) -> dict[str, int]:
    with database.session() as session:
        return export_registry(session, path, **options)


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    report = import_file(database, write_xlsx(tmp_path / "sample.xlsx", SAMPLE))
    assert {name: c.created for name, c in report.counts.items()} == COUNTS
    return database


def test_the_sample_is_stored_as_given(loaded: Database) -> None:
    text = registry_text(loaded)
    organisations = {row[0]: row for row in text["organisations"][1:]}
    assert organisations["Sở Thông tin và Truyền thông"][4] == '=SUM(A1:A2), "trực"'
    assert organisations["Ban Quản lý dự án"][3] == "Ủy ban nhân dân huyện Mộc Châu"
    asset = next(row for row in text["assets"][1:] if row[1] == "Cổng thông tin, điện tử")
    assert asset[3:9] == [
        "203.0.113.9, 203.0.113.10, 2001:db8:abcd::10",
        "www.stttt.sonla.gov.vn, xn--cng-qmz.vn",
        "Ubuntu 22.04",
        "3",
        "2024-03-05",
        "có",
    ]
    assert asset[9] == "0001"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_xlsx_export_reimports_without_a_change(
    loaded: Database, tmp_path: Path, language: str
) -> None:
    before, events = registry_text(loaded), audit_count(loaded)
    path = tmp_path / f"registry-{language}.xlsx"
    assert export(loaded, path, language=language) == COUNTS
    unchanged(import_file(loaded, path), list(TABLE_ORDER))
    assert registry_text(loaded) == before
    assert audit_count(loaded) == events


@pytest.mark.parametrize("language", ["vi", "en"])
def test_csv_export_of_each_table_reimports_without_a_change(
    loaded: Database, tmp_path: Path, language: str
) -> None:
    before, events = registry_text(loaded), audit_count(loaded)
    for table in TABLE_ORDER:
        path = tmp_path / f"{table}-{language}.csv"
        assert export(loaded, path, tables=[table], language=language) == {table: COUNTS[table]}
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        unchanged(import_file(loaded, path), [table])
    assert registry_text(loaded) == before
    assert audit_count(loaded) == events


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_rebuilds_an_emptied_registry(
    loaded: Database, tmp_path: Path, suffix: str
) -> None:
    before = registry_text(loaded)
    if suffix == ".xlsx":
        paths = [tmp_path / "registry.xlsx"]
        export(loaded, paths[0])
    else:
        paths = [tmp_path / f"{table}.csv" for table in TABLE_ORDER]
        for table, path in zip(TABLE_ORDER, paths, strict=True):
            export(loaded, path, tables=[table])
    with loaded.session() as session:
        session.execute(delete(table_of(Organisation)))
    assert all(len(rows) == 1 for rows in registry_text(loaded).values())
    for path in paths:
        assert import_file(loaded, path).changed
    assert registry_text(loaded) == before


def test_exported_cells_starting_with_equals_stay_text(loaded: Database, tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    export(loaded, path)
    workbook = load_workbook(path)
    formulas = [
        (sheet.title, cell.coordinate)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    texts = {
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-"))
    }
    assert texts == {'=SUM(A1:A2), "trực"', "=1+1", "+84 212 3852 111", "-1"}


@pytest.mark.parametrize(
    ("language", "sheets"),
    [
        ("vi", ["Đơn vị", "Đầu mối", "Dải IP", "Tên miền", "Tài sản", "Phần mềm"]),
        ("en", list(TABLE_ORDER)),
    ],
)
def test_headers_and_sheet_names_follow_the_language(
    loaded: Database, tmp_path: Path, language: str, sheets: list[str]
) -> None:
    path = tmp_path / "registry.xlsx"
    export(loaded, path, language=language)
    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == sheets
    for spec, name in zip(REGISTRY_TABLES, sheets, strict=True):
        header = next(workbook[name].iter_rows(max_row=1, values_only=True))
        expected = [c.aliases[0] if language == "vi" else c.field for c in spec.columns]
        assert list(header) == expected
    workbook.close()


def test_csv_export_of_one_table_in_english(loaded: Database, tmp_path: Path) -> None:
    path = tmp_path / "networks.csv"
    export(loaded, path, tables=["networks"], language="en")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["organisation", "network", "description"],
        ["Sở Thông tin và Truyền thông", "203.0.113.0/24", "LAN, tầng 3"],
        ["Sở Thông tin và Truyền thông", "203.0.113.128/25", ""],
        ["Ủy ban nhân dân huyện Mộc Châu", "2001:db8:abcd::/48", "=1+1"],
    ]


@pytest.mark.parametrize(
    ("name", "tables", "message"),
    [
        ("registry.xlsx", ["organisations", "servers"], "unknown table(s) servers"),
        ("registry.csv", None, "a CSV file holds one table"),
        ("registry.csv", ["networks", "domains"], "a CSV file holds one table"),
        ("registry.ods", None, "cannot export to '.ods'"),
    ],
)
def test_impossible_exports_are_refused(
    loaded: Database, tmp_path: Path, name: str, tables: list[str] | None, message: str
) -> None:
    with pytest.raises(GarrisonError, match=message.replace("(", r"\(").replace(")", r"\)")):
        export(loaded, tmp_path / name, tables=tables)
    assert not (tmp_path / name).exists()


def test_an_empty_registry_exports_headers_only(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    assert export(database, path) == dict.fromkeys(TABLE_ORDER, 0)
    workbook = load_workbook(path, read_only=True)
    assert [len(list(workbook[name].iter_rows())) for name in workbook.sheetnames] == [1] * 6
    workbook.close()
