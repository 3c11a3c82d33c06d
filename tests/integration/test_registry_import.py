"""Importing the registry from real CSV and XLSX files: all rows or none, re-imports change nothing.

Every test runs on a real SQLite file and a real PostgreSQL server.
"""

from __future__ import annotations

import codecs
import copy
import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.core.errors import InputError, RowProblem
from garrison.core.model import Base
from garrison.core.settings import Settings
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)
from garrison.orgs.registry_export import registry_rows
from garrison.orgs.registry_import import ImportReport, import_registry

pytestmark = pytest.mark.db

LIMIT = 10 * 1024 * 1024
Rows = list[list[Any]]
Sheets = dict[str, Rows]


@dataclass(frozen=True)
class Formula:
    """A cell written as a live formula (plain strings are always written as text)."""

    text: str


# A province in miniature: references go by full name or short name, kinds by code, Vietnamese
# or English name; one note starts with '=' and must stay text.
SAMPLE: Sheets = {
    "Đơn vị": [
        ["STT", "Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Đơn vị cấp trên", "Ghi chú"],
        [1, "Sở Thông tin và Truyền thông", "STTTT", "coordinator", "", "Đầu mối điều phối"],
        [2, "Sở Tài chính", "STC", "Sở, ban, ngành", "", ""],
        [3, "Ủy ban nhân dân huyện Mường Lát", "UBND-ML", "District People's Committee", "", ""],
        [4, "Trung tâm Công nghệ thông tin", "TTCNTT", "other", "STTTT", "=không phải công thức"],
    ],
    "Đầu mối": [
        ["Đơn vị", "Họ và tên", "Chức vụ", "Email", "Số điện thoại"],
        ["STTTT", "Nguyễn Văn An", "Phó Giám đốc", "An@STTTT.gov.vn", "0912345678; 02223852111"],
        ["Sở Tài chính", "Lê Thị Bình", "", "binh@stc.gov.vn", ""],
    ],
    "Dải IP": [
        ["Đơn vị", "Dải IP", "Mô tả"],
        ["STC", "203.0.113.0/25", "Mạng nội bộ"],
        ["Ủy ban nhân dân huyện Mường Lát", "198.51.100.0/24", ""],
        ["ttcntt", "2001:DB8:10::/48", "IPv6"],
    ],
    "Tên miền": [
        ["Đơn vị", "Tên miền"],
        ["STC", "stc.sonla.gov.vn"],
        ["STTTT", "sởtttt.vn"],
    ],
    "Tài sản": [
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
        ],
        [
            "STC",
            "Cổng thông tin",
            "web",
            "203.0.113.10, 2001:db8:10::10",
            "stc.sonla.gov.vn",
            "Ubuntu 22.04",
            "3",
            "05/03/2024",
            "x",
        ],
        ["TTCNTT", "Máy chủ thư", "mail", "203.0.113.20", "", "Windows Server 2019", "III", "", ""],
    ],
    "Phần mềm": [
        ["Đơn vị", "Tài sản", "CPE", "Nhà cung cấp", "Phần mềm", "Phiên bản"],
        ["STC", "Cổng thông tin", "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*", "", "", ""],
        ["STC", "Cổng thông tin", "", "WordPress", "WordPress", "6.4"],
        ["TTCNTT", "Máy chủ thư", "", "Microsoft", "Exchange Server", "2019 CU12"],
    ],
}
SAMPLE_COUNTS = {
    "organisations": 4,
    "contacts": 2,
    "networks": 3,
    "domains": 2,
    "assets": 2,
    "components": 3,
}
SNAPSHOT_MODELS: tuple[type[Base], ...] = (
    Organisation,
    Contact,
    Network,
    Domain,
    Asset,
    AssetAddress,
    Component,
    AuditEvent,
)


def write_xlsx(path: Path, sheets: Sheets, *, title: str | None = None) -> Path:
    """One sheet per entry; `title` puts a merged title row and a blank row above each header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        offset = 0
        if title:
            sheet.append([title])
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
            offset = 2
        for row_number, row in enumerate(rows, 1 + offset):
            for column, value in enumerate(row, 1):
                cell = sheet.cell(row_number, column)
                if isinstance(value, Formula):
                    cell.value = value.text
                elif value not in (None, ""):
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"  # text stays text, even when it starts with '='
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def cp1258_bytes(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: tone marks are separate combining characters."""
    kept = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve and horn belong to the letter
    spelled = []
    for char in text:
        base, *marks = unicodedata.normalize("NFD", char)
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in kept))
        spelled.append(letter + "".join(m for m in marks if m not in kept))
    return "".join(spelled).encode("cp1258")


def changed_sample(sheets: Sheets) -> Sheets:
    """The sample with some of its sheets replaced."""
    return {**copy.deepcopy(SAMPLE), **sheets}


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored registry row and audit event, in id order."""
    with database.session() as session:
        return {
            model.__tablename__: [
                tuple(row)
                for row in session.execute(select(model.__table__).order_by(model.__table__.c.id))
            ]
            for model in SNAPSHOT_MODELS
        }


def audit_events(database: Database) -> list[AuditEvent]:
    with database.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def exported(database: Database, table: str) -> list[dict[str, str]]:
    """A stored table as the English export shows it: field → text."""
    with database.session() as session:
        header, *rows = registry_rows(session, table, "en")
        return [dict(zip(header, row, strict=True)) for row in rows]


def counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    return {name: (c.created, c.updated, c.unchanged) for name, c in report.counts.items()}


def import_file(database: Database, path: Path, *, max_bytes: int = LIMIT) -> ImportReport:
    return import_registry(database, path, max_bytes=max_bytes)


def rejected(database: Database, path: Path, *, max_bytes: int = LIMIT) -> list[RowProblem]:
    """Import must fail with InputError and leave every row and audit event as it was."""
    before = snapshot(database)
    with pytest.raises(InputError) as caught:
        import_file(database, path, max_bytes=max_bytes)
    assert snapshot(database) == before
    assert caught.value.problems
    return caught.value.problems


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    """The database holding the sample province."""
    report = import_file(database, write_xlsx(tmp_path / "sample.xlsx", SAMPLE))
    assert counts(report) == {name: (n, 0, 0) for name, n in SAMPLE_COUNTS.items()}
    return database


def test_a_workbook_with_every_table_imports_in_one_go(loaded: Database) -> None:
    organisations = {row["name"]: row for row in exported(loaded, "organisations")}
    assert {name: row["kind"] for name, row in organisations.items()} == {
        "Sở Thông tin và Truyền thông": "coordinator",
        "Sở Tài chính": "department",
        "Ủy ban nhân dân huyện Mường Lát": "district",
        "Trung tâm Công nghệ thông tin": "other",
    }
    centre = organisations["Trung tâm Công nghệ thông tin"]
    assert centre["parent"] == "Sở Thông tin và Truyền thông"
    assert centre["notes"] == "=không phải công thức"
    assert {(r["organisation"], r["network"]) for r in exported(loaded, "networks")} == {
        ("Sở Tài chính", "203.0.113.0/25"),
        ("Ủy ban nhân dân huyện Mường Lát", "198.51.100.0/24"),
        ("Trung tâm Công nghệ thông tin", "2001:db8:10::/48"),
    }
    assert {r["domain"] for r in exported(loaded, "domains")} == {
        "stc.sonla.gov.vn",
        "xn--stttt-5c2b.vn",
    }
    contacts = {row["name"]: row for row in exported(loaded, "contacts")}
    contact = contacts["Nguyễn Văn An"]
    assert (contact["organisation"], contact["email"], contact["phones"]) == (
        "Sở Thông tin và Truyền thông",
        "an@stttt.gov.vn",
        "0912345678; 02223852111",
    )
    assets = {row["name"]: row for row in exported(loaded, "assets")}
    portal, mail = assets["Cổng thông tin"], assets["Máy chủ thư"]
    assert portal["addresses"] == "203.0.113.10, 2001:db8:10::10"
    assert (portal["security_level"], portal["level_approved_on"]) == ("3", "2024-03-05")
    assert (portal["internet_facing"], mail["internet_facing"]) == ("có", "không")
    assert mail["security_level"] == "3"
    assert len(exported(loaded, "components")) == 3
    with loaded.session() as session:
        keys = set(session.scalars(select(AssetAddress.key)))
    assert len(keys) == 3


def test_import_writes_create_audit_events_holding_the_values(loaded: Database) -> None:
    events = audit_events(loaded)
    assert {e.action for e in events} == {"create"}
    by_entity: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_entity.setdefault(event.entity, []).append(event)
    assert {name: len(e) for name, e in by_entity.items()} == SAMPLE_COUNTS
    network = next(e for e in by_entity["networks"] if e.label == "198.51.100.0/24")
    assert network.before is None
    assert network.after is not None
    assert network.after["organisation"] == "Ủy ban nhân dân huyện Mường Lát"
    assert network.after["cidr"] == "198.51.100.0/24"
    portal = next(e for e in by_entity["assets"] if e.after and e.after["name"] == "Cổng thông tin")
    assert portal.after is not None
    assert portal.after["addresses"] == ["203.0.113.10", "2001:db8:10::10"]
    assert portal.after["level_approved_on"] == "2024-03-05"
    centre = next(
        e for e in by_entity["organisations"] if e.label == "Trung tâm Công nghệ thông tin"
    )
    assert centre.after is not None
    assert centre.after["parent"] == "Sở Thông tin và Truyền thông"
    assert centre.after["kind_code"] == "other"


@pytest.mark.parametrize("title", [None, "DANH MỤC HỆ THỐNG THÔNG TIN TỈNH SƠN LA"])
def test_reimporting_the_same_file_changes_nothing(
    loaded: Database, tmp_path: Path, title: str | None
) -> None:
    before = snapshot(loaded)
    report = import_file(loaded, write_xlsx(tmp_path / "again.xlsx", SAMPLE, title=title))
    assert counts(report) == {name: (0, 0, n) for name, n in SAMPLE_COUNTS.items()}
    assert not report.changed
    assert report.warnings == []
    assert snapshot(loaded) == before


@dataclass(frozen=True)
class CellChange:
    sheet: str
    row: int
    column: str
    value: str
    table: str
    before: dict[str, Any]
    after: dict[str, Any]
    shown: dict[str, str]


CELL_CHANGES = [
    CellChange(
        "Tài sản",
        1,
        "Hệ điều hành",
        "Ubuntu 24.04",
        "assets",
        {"operating_system": "Ubuntu 22.04"},
        {"operating_system": "Ubuntu 24.04"},
        {"name": "Cổng thông tin", "operating_system": "Ubuntu 24.04"},
    ),
    CellChange(
        "Tài sản",
        2,
        "Địa chỉ IP",
        "203.0.113.21; 203.0.113.20",
        "assets",
        {"addresses": ["203.0.113.20"]},
        {"addresses": ["203.0.113.20", "203.0.113.21"]},
        {"name": "Máy chủ thư", "addresses": "203.0.113.20, 203.0.113.21"},
    ),
    CellChange(
        "Dải IP",
        1,
        "Đơn vị",
        "Trung tâm Công nghệ thông tin",
        "networks",
        {"organisation": "Sở Tài chính"},
        {"organisation": "Trung tâm Công nghệ thông tin"},
        {"network": "203.0.113.0/25", "organisation": "Trung tâm Công nghệ thông tin"},
    ),
    CellChange(
        "Đầu mối",
        2,
        "Số điện thoại",
        "0987654321 / 0912000111",
        "contacts",
        {"phones": []},
        {"phones": ["0987654321", "0912000111"]},
        {"name": "Lê Thị Bình", "phones": "0987654321; 0912000111"},
    ),
    CellChange(
        "Đơn vị",
        2,
        "Đơn vị cấp trên",
        "Sở Thông tin và Truyền thông",
        "organisations",
        {"parent": None},
        {"parent": "Sở Thông tin và Truyền thông"},
        {"name": "Sở Tài chính", "parent": "Sở Thông tin và Truyền thông"},
    ),
    CellChange(
        "Đơn vị",
        4,
        "Đơn vị cấp trên",
        "",
        "organisations",
        {"parent": "Sở Thông tin và Truyền thông"},
        {"parent": None},
        {"name": "Trung tâm Công nghệ thông tin", "parent": ""},
    ),
    CellChange(
        "Phần mềm",
        1,
        "Nhà cung cấp",
        "F5",
        "components",
        {"vendor": None},
        {"vendor": "F5"},
        {"asset": "Cổng thông tin", "vendor": "F5", "product": ""},
    ),
]


@pytest.mark.parametrize("change", CELL_CHANGES, ids=lambda c: f"{c.table}-{c.column}")
def test_changing_one_cell_updates_one_row_with_an_audit_event(
    loaded: Database, tmp_path: Path, change: CellChange
) -> None:
    sheets = copy.deepcopy(SAMPLE)
    header = sheets[change.sheet][0]
    sheets[change.sheet][change.row][header.index(change.column)] = change.value
    events_before = len(audit_events(loaded))

    report = import_file(loaded, write_xlsx(tmp_path / "changed.xlsx", sheets))

    expected = {name: (0, 0, n) for name, n in SAMPLE_COUNTS.items()}
    expected[change.table] = (0, 1, SAMPLE_COUNTS[change.table] - 1)
    assert counts(report) == expected
    (event,) = audit_events(loaded)[events_before:]
    assert (event.action, event.entity) == ("update", change.table)
    assert (event.before, event.after) == (change.before, change.after)
    shown = [row for row in exported(loaded, change.table) if row.items() >= change.shown.items()]
    assert len(shown) == 1
    assert import_file(loaded, write_xlsx(tmp_path / "again.xlsx", sheets)).changed is False


def test_stored_ids_follow_an_owner_and_parent_change(loaded: Database, tmp_path: Path) -> None:
    sheets = copy.deepcopy(SAMPLE)
    sheets["Dải IP"][1][0] = "UBND-ML"
    sheets["Đơn vị"][2][4] = "TTCNTT"
    import_file(loaded, write_xlsx(tmp_path / "changed.xlsx", sheets))
    with loaded.session() as session:
        ids = dict(session.execute(select(Organisation.short_name, Organisation.id)).all())
        network_owner = session.scalar(
            select(Network.organisation_id).where(Network.cidr == "203.0.113.0/25")
        )
        parent = session.scalar(
            select(Organisation.parent_id).where(Organisation.short_name == "STC")
        )
    assert network_owner == ids["UBND-ML"]
    assert parent == ids["TTCNTT"]


def test_new_rows_referring_to_stored_organisations_are_created(
    loaded: Database, tmp_path: Path
) -> None:
    networks = [["Cơ quan", "CIDR"], ["sở tài chính", "203.0.113.128/25"]]
    report = import_file(loaded, write_csv(tmp_path / "more.csv", networks))
    assert counts(report)["networks"] == (1, 0, 0)
    assert {"organisation": "Sở Tài chính", "network": "203.0.113.128/25", "description": ""} in (
        exported(loaded, "networks")
    )


def test_an_organisation_spelt_in_another_case_is_the_stored_one(
    loaded: Database, tmp_path: Path
) -> None:
    rows = [["Tên đơn vị", "Tên viết tắt", "Loại đơn vị"], ["SỞ  TÀI CHÍNH", "STC", "department"]]
    report = import_file(loaded, write_csv(tmp_path / "orgs.csv", rows))
    assert counts(report)["organisations"] == (0, 0, 1)
    assert len(exported(loaded, "organisations")) == 4


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        (
            "organisations",
            [["Tên đơn vị", "Loại đơn vị"], ["Trung tâm Công nghệ thông tin", "other"]],
        ),
        (
            "assets",
            [["Đơn vị", "Tên tài sản", "Hệ điều hành"], ["STC", "Cổng thông tin", "Ubuntu 22.04"]],
        ),
        ("contacts", [["Đơn vị", "Họ và tên"], ["STTTT", "Nguyễn Văn An"]]),
        ("networks", [["Đơn vị", "Dải IP"], ["ttcntt", "2001:db8:10::/48"]]),
        (
            "components",
            [["Đơn vị", "Tài sản", "CPE"], ["STC", "Cổng thông tin", SAMPLE["Phần mềm"][1][2]]],
        ),
    ],
)
def test_a_file_without_a_column_leaves_that_field_alone(
    loaded: Database, tmp_path: Path, table: str, rows: Rows
) -> None:
    """Short names, parents, addresses, phones… survive a file that does not list them."""
    before = snapshot(loaded)
    report = import_file(loaded, write_csv(tmp_path / f"{table}.csv", rows))
    assert counts(report)[table] == (0, 0, 1)
    assert snapshot(loaded) == before


@pytest.mark.parametrize("language", ["vi", "en"])
def test_headers_in_english_or_without_marks_and_english_sheet_names(
    database: Database, tmp_path: Path, language: str
) -> None:
    """The same province with English (or unaccented Vietnamese) headers and sheet names."""
    english = {
        "organisations": ["no", "organisation", "short name", "type", "parent", "notes"],
        "contacts": ["organization", "contact name", "position", "e-mail", "phone"],
        "networks": ["owner", "network", "description"],
        "domains": ["org", "domain name"],
        "assets": [
            "organisation",
            "asset",
            "asset type",
            "IP addresses",
            "hostnames",
            "OS",
            "security level",
            "approval date",
            "internet-facing",
        ],
        "components": ["organisation", "system", "CPE", "vendor", "product", "version"],
    }
    sheets = {}
    for (vi_name, rows), (en_name, header) in zip(SAMPLE.items(), english.items(), strict=True):
        plain = [strip_marks(h) for h in rows[0]]
        sheets[en_name if language == "en" else strip_marks(vi_name)] = [
            header if language == "en" else plain,
            *rows[1:],
        ]
    report = import_file(database, write_xlsx(tmp_path / "en.xlsx", sheets))
    assert counts(report) == {name: (n, 0, 0) for name, n in SAMPLE_COUNTS.items()}


def strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def test_host_bits_are_cleared_with_a_warning(database: Database, tmp_path: Path) -> None:
    networks = [["Đơn vị", "Dải IP"], ["STC", "203.0.113.77/25"], ["STTTT", "2001:db8::1/64"]]
    sheets = changed_sample({"Dải IP": networks})
    report = import_file(database, write_xlsx(tmp_path / "hosts.xlsx", sheets))
    assert [(w.file, w.sheet, w.row, w.column) for w in report.warnings] == [
        ("hosts.xlsx", "Dải IP", 2, "Dải IP"),
        ("hosts.xlsx", "Dải IP", 3, "Dải IP"),
    ]
    assert "stored as 203.0.113.0/25" in report.warnings[0].reason
    assert {r["network"] for r in exported(database, "networks")} == {
        "203.0.113.0/25",
        "2001:db8::/64",
    }


@dataclass(frozen=True)
class BadRows:
    """Rows appended to one sheet of the sample, and the problem the first of them must cause."""

    id: str
    sheet: str
    rows: Rows
    column: str
    reason: str


def _org(name: str, short: str, kind: str = "department", parent: str = "") -> list[Any]:
    return [9, name, short, kind, parent, ""]


def _asset(**cells: object) -> list[Any]:
    values: dict[str, object] = {"Đơn vị": "STC", "Tên tài sản": "Máy chủ mới", **cells}
    return [values.get(h, "") for h in SAMPLE["Tài sản"][0]]


BAD_ROWS = [
    BadRows(
        "asset-ip",
        "Tài sản",
        [_asset(**{"Địa chỉ IP": "203.0.113.5, 148.81.111.11.12"})],
        "Địa chỉ IP",
        "'148.81.111.11.12' is not an IPv4 or IPv6 address",
    ),
    BadRows(
        "asset-zone",
        "Tài sản",
        [_asset(**{"Địa chỉ IP": "fe80::1%eth0"})],
        "Địa chỉ IP",
        "zone id",
    ),
    BadRows(
        "network-ip",
        "Dải IP",
        [["STC", "148.81.111.11.12", ""]],
        "Dải IP",
        "'148.81.111.11.12' is not an IPv4 or IPv6 network",
    ),
    BadRows("network-zone", "Dải IP", [["STC", "fe80::1%eth0", ""]], "Dải IP", "zone id"),
    BadRows(
        "unknown-owner",
        "Dải IP",
        [["Sở Không Có", "192.0.2.128/25", ""]],
        "Đơn vị",
        "no organisation named 'Sở Không Có'",
    ),
    BadRows(
        "unknown-kind",
        "Đơn vị",
        [_org("Sở Tư pháp", "STP", kind="bộ")],
        "Loại đơn vị",
        "'bộ' is not an organisation kind; use one of coordinator, department",
    ),
    BadRows(
        "unknown-parent",
        "Đơn vị",
        [_org("Sở Tư pháp", "STP", parent="Bộ Tư pháp")],
        "Đơn vị cấp trên",
        "no organisation named 'Bộ Tư pháp'",
    ),
    BadRows(
        "own-parent",
        "Đơn vị",
        [_org("Sở Tư pháp", "STP", parent="STP")],
        "Đơn vị cấp trên",
        "cannot be its own parent",
    ),
    BadRows(
        "parent-cycle",
        "Đơn vị",
        [_org("Sở Tư pháp", "STP", parent="SNV"), _org("Sở Nội vụ", "SNV", parent="STP")],
        "Đơn vị cấp trên",
        "the parents form a cycle",
    ),
    BadRows(
        "repeated-organisation",
        "Đơn vị",
        [_org("sở tài chính", "")],
        "Tên đơn vị",
        "repeats row 3 of sheet 'Đơn vị'",
    ),
    BadRows(
        "repeated-short-name",
        "Đơn vị",
        [_org("Sở Tư pháp", "stc")],
        "Tên viết tắt",
        "repeats row 3 of sheet 'Đơn vị'",
    ),
    BadRows(
        "repeated-network",
        "Dải IP",
        [["STTTT", "203.0.113.1/25", ""]],
        "Dải IP",
        "repeats row 2 of sheet 'Dải IP'",
    ),
    BadRows(
        "repeated-contact-by-full-name",
        "Đầu mối",
        [["Sở Thông tin và Truyền thông", "Nguyễn Văn An", "", "", ""]],
        "Họ và tên",
        "repeats row 2 of sheet 'Đầu mối'",
    ),
    BadRows(
        "repeated-asset-by-short-name",
        "Tài sản",
        [_asset(**{"Đơn vị": "Sở Tài chính", "Tên tài sản": "Cổng thông tin"})],
        "Tên tài sản",
        "repeats row 2 of sheet 'Tài sản'",
    ),
    BadRows(
        "repeated-domain",
        "Tên miền",
        [["STTTT", "STC.sonla.gov.vn."]],
        "Tên miền",
        "repeats row 2 of sheet 'Tên miền'",
    ),
    BadRows(
        "security-level",
        "Tài sản",
        [_asset(**{"Cấp độ": "7"})],
        "Cấp độ",
        "'7' is not a security level 1–5",
    ),
    BadRows(
        "date",
        "Tài sản",
        [_asset(**{"Cấp độ": "2", "Ngày phê duyệt": "30/02/2024"})],
        "Ngày phê duyệt",
        "'30/02/2024' is not a date",
    ),
    BadRows(
        "email",
        "Đầu mối",
        [["STC", "Trần Văn C", "", "tranvanc.stc.gov.vn", ""]],
        "Email",
        "is not an e-mail address",
    ),
    BadRows(
        "cpe",
        "Phần mềm",
        [["STC", "Cổng thông tin", "cpe:/a:php:php:8.1", "", "", ""]],
        "CPE",
        "is not a CPE 2.3 name",
    ),
    BadRows(
        "unknown-asset",
        "Phần mềm",
        [["STC", "Máy chủ không có", "", "", "PHP", "8.1"]],
        "Tài sản",
        "has no asset named 'Máy chủ không có'",
    ),
    BadRows(
        "formula",
        "Tài sản",
        [_asset(**{"Hệ điều hành": Formula("=1+1")})],
        "Hệ điều hành",
        "the cell holds a formula",
    ),
    BadRows(
        "hyperlink-formula",
        "Đầu mối",
        [["STC", "Trần Văn C", "", Formula('=HYPERLINK("mailto:c@stc.gov.vn","c")'), ""]],
        "Email",
        "the cell holds a formula",
    ),
    BadRows(
        "too-long",
        "Đầu mối",
        [["STC", "Trần " * 50, "", "", ""]],
        "Họ và tên",
        "longer than 200 characters",
    ),
]


@pytest.mark.parametrize("bad", BAD_ROWS, ids=lambda bad: bad.id)
@pytest.mark.parametrize("stored", [False, True], ids=["empty", "loaded"])
def test_a_bad_row_rejects_the_whole_file(
    database: Database, tmp_path: Path, bad: BadRows, stored: bool
) -> None:
    """Into an empty or a loaded database: the problem is located, and nothing is written."""
    if stored:
        import_file(database, write_xlsx(tmp_path / "sample.xlsx", SAMPLE))
    sheets = copy.deepcopy(SAMPLE)
    sheets["Dải IP"].append(["STC", "192.0.2.0/24", "một dòng tốt"])
    sheets[bad.sheet].extend(bad.rows)
    path = write_xlsx(tmp_path / "bad.xlsx", sheets)

    problems = rejected(database, path)

    row = len(SAMPLE[bad.sheet]) + (1 if bad.sheet == "Dải IP" else 0) + 1
    assert (problems[0].file, problems[0].sheet, problems[0].row, problems[0].column) == (
        "bad.xlsx",
        bad.sheet,
        row,
        bad.column,
    )
    assert bad.reason in problems[0].reason
    assert all(p.file == "bad.xlsx" and p.row and p.column and p.reason for p in problems)


def test_a_short_name_of_another_stored_organisation_is_rejected(
    loaded: Database, tmp_path: Path
) -> None:
    rows = [["Tên đơn vị", "Tên viết tắt", "Loại đơn vị"], ["Sở Tư pháp", "STC", "department"]]
    (problem,) = rejected(loaded, write_csv(tmp_path / "orgs.csv", rows))
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "orgs.csv",
        None,
        2,
        "Tên viết tắt",
    )
    assert problem.reason == "'STC' is already the short name of 'Sở Tài chính'"


def test_one_bad_row_among_many_good_rows_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    rows: Rows = [["Đơn vị", "Dải IP", "Mô tả"]]
    rows += [["Sở Tài chính", f"10.{n // 256}.{n % 256}.0/24", f"mạng {n}"] for n in range(3000)]
    rows.insert(2500, ["Sở Tài chính", "10.300.0.0/24", "sai"])
    orgs = [["Tên đơn vị", "Loại"], ["Sở Tài chính", "department"]]
    path = write_xlsx(tmp_path / "many.xlsx", {"Đơn vị": orgs, "Dải IP": rows})
    (problem,) = rejected(database, path)
    assert (problem.sheet, problem.row, problem.column) == ("Dải IP", 2501, "Dải IP")
    del rows[2500]
    report = import_file(
        database, write_xlsx(tmp_path / "good.xlsx", {"Đơn vị": orgs, "Dải IP": rows})
    )
    assert counts(report)["networks"] == (3000, 0, 0)


def test_duplicate_header_rejects_the_file(database: Database, tmp_path: Path) -> None:
    rows = [["Đơn vị", "Dải IP", "network"], ["STC", "203.0.113.0/24", "203.0.113.0/24"]]
    path = write_xlsx(tmp_path / "dup.xlsx", changed_sample({"Dải IP": rows}))
    (problem,) = rejected(database, path)
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "dup.xlsx",
        "Dải IP",
        1,
        "network",
    )
    assert "'Dải IP', 'network' all mean 'network'" in problem.reason


ORGANISATION_NAMES = [
    "Sở Thông tin và Truyền thông",
    "Ủy ban nhân dân huyện Mường Lát",
    "Trung tâm Giám sát, điều hành đô thị thông minh",
    "Sở Y tế",
]


def organisations_csv(names: list[str], *, notes: bool) -> str:
    """Organisations as CSV text, optionally with a note repeating each name."""
    if not notes:
        return "Tên đơn vị,Loại\r\n" + "".join(f'"{name}",department\r\n' for name in names)
    return "Tên đơn vị,Loại đơn vị,Ghi chú\r\n" + "".join(
        f'"{name}",Sở ban ngành,"Địa chỉ: {name}"\r\n' for name in names
    )


@pytest.mark.parametrize(
    ("names", "notes"),
    # Single short rows are what encoding detectors most often take for another code page
    # (hp_roman8, cp1250).
    [(ORGANISATION_NAMES, True), (["Sở Tài chính"], False), (["Báo Sơn La"], False)],
    ids=["four-with-notes", "one-row", "another-row"],
)
@pytest.mark.parametrize(
    "encode",
    [
        cp1258_bytes,
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    ],
    ids=["cp1258", "utf16-bom", "utf16-no-bom", "utf8-bom"],
)
def test_csv_in_legacy_and_wide_encodings_imports_exactly(
    database: Database, tmp_path: Path, names: list[str], notes: bool, encode: Any
) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(encode(organisations_csv(names, notes=notes)))
    report = import_file(database, path)
    assert counts(report)["organisations"] == (len(names), 0, 0)
    stored = {row["name"]: row["notes"] for row in exported(database, "organisations")}
    assert stored == {name: f"Địa chỉ: {name}" if notes else "" for name in names}
    assert all(unicodedata.is_normalized("NFC", name) for name in stored)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.csv", bytes(range(256)) * 16, "encoding"),
        ("empty.csv", b"", "the file is empty"),
        ("title.csv", "DANH SÁCH ĐƠN VỊ\r\n\r\n".encode(), "no header row found"),
        ("title.xlsx", None, "no header row found"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
    ],
)
def test_unreadable_files_are_rejected(
    loaded: Database, tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is None:
        write_xlsx(path, {"Đơn vị": [["DANH SÁCH ĐƠN VỊ"], ["Năm 2024"]]})
    else:
        path.write_bytes(content)
    (problem,) = rejected(loaded, path)
    assert problem.file == name
    assert reason in problem.reason


def test_a_file_over_the_limit_is_rejected(loaded: Database, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "sample.xlsx", changed_sample({"Dải IP": [["Đơn vị", "Dải IP"]]}))
    size = path.stat().st_size
    (problem,) = rejected(loaded, path, max_bytes=size - 1)
    assert "over the import limit" in problem.reason


def test_a_sparse_200_megabyte_file_is_rejected_by_the_default_limit(
    loaded: Database, tmp_path: Path
) -> None:
    default_limit = Settings.model_fields["max_import_bytes"].default
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write("Tên đơn vị,Loại\n".encode())
        handle.truncate(200 * 1024 * 1024)
    (problem,) = rejected(loaded, path, max_bytes=default_limit)
    assert problem.file == "huge.csv"
    assert f"{200 * 1024 * 1024:,} bytes" in problem.reason
    assert f"limit of {default_limit:,}" in problem.reason
