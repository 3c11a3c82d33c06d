"""Reading people's spreadsheets: header mapping, title rows, sheets, encodings and bad files."""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular import Table, normalise_header, read_tables
from garrison.core.tabular.encoding import UndecodableText, decode_text
from garrison.orgs.registry_tables import REGISTRY_TABLES

LIMIT = 10 * 1024 * 1024
Rows = Sequence[Sequence[object]]


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, Rows], *, title: str | None = None) -> Path:
    """One sheet per entry; with `title`, a merged title row and a blank row come first."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        if title:
            sheet.append([title])
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
            sheet.append([])
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def text_cell_xlsx(path: Path, header: Sequence[str], row: Sequence[str]) -> Path:
    """A sheet whose data cells are stored as text even when they start with '='."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for column, value in enumerate(row, 1):
        cell = sheet.cell(row=2, column=column, value=value)
        cell.data_type = "s"
    workbook.save(path)
    return path


def read(path: Path, *, max_bytes: int = LIMIT) -> list[Table]:
    return read_tables(path, REGISTRY_TABLES, max_bytes=max_bytes)


def only_table(path: Path) -> Table:
    tables = read(path)
    assert len(tables) == 1
    return tables[0]


def problems(path: Path, *, max_bytes: int = LIMIT) -> list[RowProblem]:
    with pytest.raises(InputError) as caught:
        read(path, max_bytes=max_bytes)
    assert caught.value.problems
    assert "nothing was written" in str(caught.value)
    return caught.value.problems


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("Tên đơn vị", "ten don vi"),
        ("TÊN ĐƠN VỊ", "ten don vi"),
        ("Ten don vi", "ten don vi"),
        ("(*) Dải IP:", "dai ip"),
        ("  Dải   địa chỉ\nIP  (*)", "dai dia chi ip"),
        ("E-mail", "e mail"),
        ("short_name", "short name"),
        ("Ngày phê duyệt (dd/mm/yyyy)", "ngay phe duyet dd mm yyyy"),
        ("(*)", ""),
        ("", ""),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised
    assert normalise_header(normalised) == normalised


NETWORK_VALUES = {
    "organisation": "Sở Tài chính",
    "network": "203.0.113.0/24",
    "description": "Mạng LAN",
}


@pytest.mark.parametrize(
    "columns",
    [
        [("Tên đơn vị", "organisation"), ("Dải IP", "network"), ("Mô tả", "description")],
        [("Ten don vi", "organisation"), ("Dai IP", "network"), ("Mo ta", "description")],
        [("organisation", "organisation"), ("network", "network"), ("description", "description")],
        [("Organization", "organisation"), ("CIDR", "network"), ("Notes", "description")],
        [
            ("(*) TÊN ĐƠN VỊ:", "organisation"),
            ("Dải IP (*)", "network"),
            (" mô  tả ", "description"),
        ],
        [
            ("STT", None),
            ("Đơn vị quản lý", "organisation"),
            ("Người nhập", None),
            ("Dải địa chỉ IP", "network"),
            ("Diễn giải", "description"),
        ],
    ],
    ids=["vietnamese", "unaccented", "english", "american", "punctuated", "extra-columns"],
)
def test_headers_map_to_fields_however_they_are_spelt(
    tmp_path: Path, columns: list[tuple[str, str | None]]
) -> None:
    header = [text for text, _field in columns]
    row = [NETWORK_VALUES[name] if name else "bỏ qua" for _text, name in columns]
    table = only_table(write_csv(tmp_path / "networks.csv", [header, row]))
    assert table.spec.name == "networks"
    assert table.header_row == 1
    (record,) = table.records
    assert record.values == NETWORK_VALUES
    assert record.headers == {name: text.strip() for text, name in columns if name}


def test_title_and_blank_rows_above_the_header_are_skipped_in_csv(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "networks.csv",
        [
            ["DANH SÁCH DẢI IP CỦA CÁC ĐƠN VỊ"],
            ["(Kèm theo Công văn số 123/STTTT-CNTT)"],
            [],
            ["STT", "Tên đơn vị", "Dải IP"],
            ["1", "Sở Tài chính", "203.0.113.0/24"],
            [],
            ["2", "Sở Y tế", "198.51.100.0/24"],
        ],
    )
    table = only_table(path)
    assert table.header_row == 4
    assert [(r.row, r.get("organisation")) for r in table.records] == [
        (5, "Sở Tài chính"),
        (7, "Sở Y tế"),
    ]


def test_merged_title_row_above_the_header_in_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        {"Dải IP": [["STT", "Tên đơn vị", "Dải IP"], [1, "Sở Tài chính", "203.0.113.0/24"]]},
        title="DANH SÁCH DẢI IP",
    )
    table = only_table(path)
    assert (table.sheet, table.header_row) == ("Dải IP", 3)
    (record,) = table.records
    assert (record.file, record.sheet, record.row) == ("registry.xlsx", "Dải IP", 4)
    assert record.values == {"organisation": "Sở Tài chính", "network": "203.0.113.0/24"}


def test_every_sheet_of_a_workbook_is_read_and_sheets_without_header_ignored(
    tmp_path: Path,
) -> None:
    path = write_xlsx(
        tmp_path / "registry.xlsx",
        {
            "Hướng dẫn": [["Điền mỗi bảng vào một trang"], ["Cột có (*) là bắt buộc"]],
            "Đơn vị": [["Tên đơn vị", "Loại đơn vị"], ["Sở Tài chính", "department"]],
            "Dải IP": [["Đơn vị", "Dải IP"], ["Sở Tài chính", "203.0.113.0/24"]],
            "Tên miền": [["Đơn vị", "Tên miền"], ["Sở Tài chính", "stc.gov.vn"]],
        },
    )
    tables = read(path)
    assert [(t.sheet, t.spec.name) for t in tables] == [
        ("Đơn vị", "organisations"),
        ("Dải IP", "networks"),
        ("Tên miền", "domains"),
    ]


AMBIGUOUS_HEADER = ["Đơn vị", "Tài sản", "Phần mềm", "Phiên bản"]


@pytest.mark.parametrize(
    ("sheet", "kind"),
    [("Tài sản", "assets"), ("Phần mềm", "components"), ("Trang 1", "components")],
)
def test_sheet_name_decides_between_fitting_kinds_then_most_columns(
    tmp_path: Path, sheet: str, kind: str
) -> None:
    """'Đơn vị, Tài sản' fits both assets and components: the sheet name breaks the tie."""
    row = ["Sở Tài chính", "Cổng thông tin", "nginx", "1.24"]
    path = write_xlsx(tmp_path / "registry.xlsx", {sheet: [AMBIGUOUS_HEADER, row]})
    assert only_table(path).spec.name == kind


def test_csv_picks_the_kind_that_explains_most_columns(tmp_path: Path) -> None:
    row = ["Sở Tài chính", "Cổng thông tin", "nginx", "1.24"]
    table = only_table(write_csv(tmp_path / "software.csv", [AMBIGUOUS_HEADER, row]))
    assert table.spec.name == "components"
    assert table.records[0].values["product"] == "nginx"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    rows = [
        ["Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Ghi chú"],
        ["Sở Tài chính", "STC", "department", "Trực 24/7, gọi trước"],
        ["UBND huyện Mộc Châu", "", "district", "People's Committee; huyện"],
    ]
    table = only_table(write_csv(tmp_path / "orgs.csv", rows, delimiter=delimiter))
    assert [r.values for r in table.records] == [
        {"name": n, "short_name": s, "kind": k, "notes": c} for n, s, k, c in rows[1:]
    ]


def test_csv_delimiter_is_found_when_the_sample_ends_inside_a_quoted_cell(tmp_path: Path) -> None:
    long_note = "; ".join(["ghi chú dài"] * 8000)
    rows = [["Tên đơn vị", "Loại", "Ghi chú"], ["Sở Y tế", "department", long_note]]
    table = only_table(write_csv(tmp_path / "orgs.csv", rows, delimiter=";"))
    assert table.records[0].values == {"name": "Sở Y tế", "kind": "department", "notes": long_note}


def test_csv_rows_are_numbered_by_the_line_they_start_on(tmp_path: Path) -> None:
    rows = [
        ["Tên đơn vị", "Loại đơn vị", "Ghi chú"],
        ["Sở Tài chính", "department", "dòng một\ndòng hai\ndòng ba"],
        ["Sở Y tế", "department", ""],
    ]
    table = only_table(write_csv(tmp_path / "orgs.csv", rows))
    assert [(r.row, r.get("name")) for r in table.records] == [(2, "Sở Tài chính"), (5, "Sở Y tế")]


SAMPLE_TEXT = (
    "Tên đơn vị,Loại đơn vị\nỦy ban nhân dân huyện Mường Lát,district\nSở Y tế,department\n"
)


@pytest.mark.parametrize(
    ("codec", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be", "utf32-bom"],
)
def test_unicode_encodings_are_recognised(tmp_path: Path, codec: str, prefix: bytes) -> None:
    data = prefix + SAMPLE_TEXT.encode(codec)
    assert decode_text(data)[0] == SAMPLE_TEXT
    path = tmp_path / "orgs.csv"
    path.write_bytes(data)
    names = [r.get("name") for r in only_table(path).records]
    assert names == ["Ủy ban nhân dân huyện Mường Lát", "Sở Y tế"]


def test_decomposed_text_comes_back_composed(tmp_path: Path) -> None:
    decomposed = "Tên đơn vị,Loại\nSở Y tế,department\n".replace("ở", "o\u031b\u0309")
    path = tmp_path / "orgs.csv"
    path.write_bytes(decomposed.encode("utf-8"))
    assert only_table(path).records[0].get("name") == "Sở Y tế"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 8,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
        b"Ten don vi,Loai\nSo Y te,department\x00\n",
    ],
    ids=["all-bytes", "png", "nul"],
)
def test_binary_files_are_rejected(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UndecodableText):
        decode_text(data)
    path = tmp_path / "registry.csv"
    path.write_bytes(data)
    (problem,) = problems(path)
    assert problem.file == "registry.csv"
    assert "encoding" in problem.reason or "binary" in problem.reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("title.csv", "DANH SÁCH ĐƠN VỊ\n\n".encode(), "no header row found"),
        ("blank.csv", b"\n\n,,,\n", "no header row found"),
        ("notes.txt", b"Ten don vi,Loai\n", None),
        ("registry.ods", b"PK\x03\x04", "unsupported file type '.ods'"),
        ("registry.xlsx", b"this is not a zip", "not a readable XLSX workbook"),
    ],
)
def test_files_without_a_table_are_rejected(
    tmp_path: Path, name: str, content: bytes, reason: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    if reason is None:
        assert read(path)[0].records == []
        return
    (problem,) = problems(path)
    assert problem.file == name
    assert reason in problem.reason


SHEET_XML = (
    "<?xml version='1.0'?><worksheet "
    "xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>{}"
    "</sheetData></worksheet>"
)


@pytest.mark.parametrize(
    ("member", "content"),
    [
        ("xl/workbook.xml", "garbage"),
        ("xl/worksheets/sheet1.xml", "<worksheet><sheetData>"),
        ("xl/worksheets/sheet1.xml", SHEET_XML.format("<row r='1'><c t='s'><v>99</v></c></row>")),
        ("xl/worksheets/sheet1.xml", SHEET_XML.format("<row r='1'><c t='n'><v>x</v></c></row>")),
    ],
    ids=["workbook", "truncated-sheet", "missing-string", "bad-number"],
)
def test_damaged_workbooks_are_input_errors(tmp_path: Path, member: str, content: str) -> None:
    whole = write_xlsx(tmp_path / "whole.xlsx", {"Đơn vị": [["Tên đơn vị", "Loại"], ["A", "b"]]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = content.encode() if item.filename == member else source.read(item.filename)
            target.writestr(item, data)
    (problem,) = problems(damaged)
    assert problem.file == "damaged.xlsx"
    assert "not a readable XLSX workbook" in problem.reason


def test_no_header_names_the_expected_columns(tmp_path: Path) -> None:
    (problem,) = problems(write_csv(tmp_path / "x.csv", [["DANH SÁCH"], ["a", "b"]]))
    assert "'Tên đơn vị'" in problem.reason and "'Dải IP'" in problem.reason


def test_header_beyond_the_search_rows_is_not_found(tmp_path: Path) -> None:
    rows = [[f"dòng {n}"] for n in range(15)] + [["Tên đơn vị", "Loại"], ["Sở Y tế", "other"]]
    (problem,) = problems(write_csv(tmp_path / "late.csv", rows))
    assert "no header row found in the first 15 rows" in problem.reason


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path / "absent.csv")
    assert problem.reason == "no such file"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_duplicate_header_names_both_columns(tmp_path: Path, suffix: str) -> None:
    rows = [["Tên đơn vị", "Dải IP", "network"], ["Sở Y tế", "203.0.113.0/24", "198.51.100.0/24"]]
    path = tmp_path / f"networks{suffix}"
    if suffix == ".csv":
        write_csv(path, rows)
    else:
        write_xlsx(path, {"Mạng": rows})
    (problem,) = problems(path)
    assert (problem.file, problem.row, problem.column) == (path.name, 1, "network")
    assert problem.sheet == (None if suffix == ".csv" else "Mạng")
    assert "'Dải IP'" in problem.reason and "'network'" in problem.reason
    assert "keep one" in problem.reason


@pytest.mark.parametrize("formula", ["=1+1", '=HYPERLINK("http://x.example","x")'])
def test_formula_cells_in_xlsx_are_rejected_with_their_cell(tmp_path: Path, formula: str) -> None:
    rows = [
        ["Tên đơn vị", "Loại đơn vị", "Ghi chú"],
        ["Sở Tài chính", "department", "ổn"],
        ["Sở Y tế", "department", formula],
    ]
    path = write_xlsx(tmp_path / "orgs.xlsx", {"Đơn vị": rows}, title="DANH SÁCH")
    (problem,) = problems(path)
    assert (problem.file, problem.sheet, problem.row, problem.column) == (
        "orgs.xlsx",
        "Đơn vị",
        5,
        "Ghi chú",
    )
    assert "formula" in problem.reason


def test_xlsx_text_starting_with_equals_is_text_not_a_formula(tmp_path: Path) -> None:
    path = text_cell_xlsx(
        tmp_path / "orgs.xlsx",
        ["Tên đơn vị", "Loại đơn vị", "Ghi chú"],
        ["Sở Y tế", "department", "=không phải công thức"],
    )
    assert only_table(path).records[0].get("notes") == "=không phải công thức"


def test_xlsx_numbers_and_dates_read_as_people_see_them(tmp_path: Path) -> None:
    from datetime import date, datetime

    rows = [
        ["Đơn vị", "Tên tài sản", "Cấp độ", "Ngày phê duyệt", "Kết nối Internet", "Ghi chú"],
        ["Sở Y tế", "Cổng", 3, datetime(2024, 3, 5), True, 2.5],
        ["Sở Y tế", "Thư", 2.0, date(2023, 1, 2), False, None],
    ]
    table = only_table(write_xlsx(tmp_path / "assets.xlsx", {"Tài sản": rows}))
    assert [
        (
            r.get("security_level"),
            r.get("level_approved_on"),
            r.get("internet_facing"),
            r.get("notes"),
        )
        for r in table.records
    ] == [("3", "2024-03-05", "true", "2.5"), ("2", "2023-01-02", "false", "")]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_files_over_the_limit_are_rejected_before_reading(tmp_path: Path, suffix: str) -> None:
    rows = [["Tên đơn vị", "Loại"], *([["Sở Y tế", "department"]] * 50)]
    path = tmp_path / f"big{suffix}"
    if suffix == ".csv":
        write_csv(path, rows)
    else:
        write_xlsx(path, {"Đơn vị": rows})
    size = path.stat().st_size
    assert read(path, max_bytes=size)
    (problem,) = problems(path, max_bytes=size - 1)
    assert f"{size:,} bytes" in problem.reason and "limit" in problem.reason


def test_control_characters_in_cells_are_rejected(tmp_path: Path) -> None:
    rows = [["Tên đơn vị", "Loại"], ["Sở Y tế\x01", "department"]]
    (problem,) = problems(write_csv(tmp_path / "orgs.csv", rows))
    assert (problem.row, problem.column) == (2, "Tên đơn vị")
    assert "control character" in problem.reason
