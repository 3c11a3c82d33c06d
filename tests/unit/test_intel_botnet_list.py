"""The national botnet IP lists: every header variant as XLSX, XLS and CSV, dates, bad rows."""

from __future__ import annotations

import csv
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import xlwt

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, detect_format
from garrison.intel.formats._table_rows import family_name, parse_time
from garrison.intel.formats.botnet_list import FORMAT
from garrison.intel.types import IndicatorType

FIXTURE = Path(__file__).parents[1] / "data" / "intel" / "botnet_list"
Cell = object
Sheet = list[list[Cell]]


def _parse(path: Path) -> tuple[list[IntelEvent], list[RowProblem]]:
    items = list(FORMAT.parse(FeedDocument.from_path(path)))
    events = [item for item in items if isinstance(item, IntelEvent)]
    problems = [item for item in items if isinstance(item, RowProblem)]
    assert len(events) + len(problems) == len(items)
    return events, problems


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- building the spreadsheets the authority sends -----------------------------------------


@dataclass(frozen=True)
class Merge:
    """A merged range, rows and columns from 0, both ends included."""

    first_row: int
    last_row: int
    first_column: int
    last_column: int

    @property
    def cells(self) -> set[tuple[int, int]]:
        return {
            (row, column)
            for row in range(self.first_row, self.last_row + 1)
            for column in range(self.first_column, self.last_column + 1)
        } - {(self.first_row, self.first_column)}


def write_xlsx(
    path: Path, rows: Sheet, merges: tuple[Merge, ...] = (), title: str = "Botnet"
) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    for merge in merges:
        sheet.merge_cells(
            start_row=merge.first_row + 1,
            end_row=merge.last_row + 1,
            start_column=merge.first_column + 1,
            end_column=merge.last_column + 1,
        )
    workbook.save(path)
    return path


def write_xls(path: Path, rows: Sheet, merges: tuple[Merge, ...] = ()) -> Path:
    """Excel 97-2003, as older provincial offices still save; xlwt writes it (test-only)."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Danh sach")
    dates = xlwt.easyxf(num_format_str="dd/mm/yyyy hh:mm:ss")
    skipped = set().union(*(merge.cells for merge in merges)) if merges else set()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value == "" or value is None or (r, c) in skipped:
                continue
            if isinstance(value, datetime):
                sheet.write(r, c, value, dates)
            else:
                sheet.write(r, c, value)
    for merge in merges:
        sheet.merge(merge.first_row, merge.last_row, merge.first_column, merge.last_column)
    book.save(str(path))
    return path


def write_csv(path: Path, rows: Sheet) -> Path:
    def text(value: Cell) -> str:
        if isinstance(value, datetime):
            return value.strftime("%d/%m/%Y %H:%M:%S")
        return "" if value is None else str(value)

    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows([[text(value) for value in row] for row in rows])
    return path


# --- the same three infected hosts under every header variant ------------------------------

TITLE: Sheet = [
    ["CỤC AN TOÀN THÔNG TIN"],
    ["DANH SÁCH ĐỊA CHỈ IP NHIỄM MÃ ĐỘC BOTNET THÁNG 10/2026 - TỈNH SƠN LÂM"],
    [],
]
HOSTS: list[dict[str, Cell]] = [
    {
        "no": 1,
        "ip": "203.0.113.17",
        "first": datetime(2026, 10, 1, 8, 15, 22),
        "last": datetime(2026, 10, 3, 9, 0, 0),
        "family": "Mirai",
        "count": 37,
        "isp": "VNPT",
        "asn": "AS45899",
        "province": "Sơn Lâm",
        "org": "",
        "c2": "198.51.100.201:23",
        "port": 48211,
    },
    {
        "no": 2,
        "ip": "198.51.100.23",
        "first": datetime(2026, 10, 2, 3, 12, 47),
        "last": datetime(2026, 10, 30, 23, 59, 1),
        "family": "Conficker/Downadup",
        "count": 1204,
        "isp": "Viettel",
        "asn": "AS7552",
        "province": "Sơn Lâm",
        "org": "Sở Y tế tỉnh Sơn Lâm",
        "c2": "",
        "port": "",
    },
    {
        "no": 3,
        "ip": "2001:db8:4a::17",
        "first": datetime(2026, 10, 4, 0, 0, 0),
        "last": datetime(2026, 10, 4, 6, 30, 0),
        "family": "Win32.Sality.AT",
        "count": 5,
        "isp": "FPT",
        "asn": "AS18403",
        "province": "Sơn Lâm",
        "org": "",
        "c2": "443",
        "port": "",
    },
]
LOGICAL = ("no", "ip", "first", "last", "family", "count", "isp", "asn", "province", "org", "c2")


@dataclass(frozen=True)
class Variant:
    """One way the list's header has been written."""

    labels: dict[str, str]
    """Logical field → header label; the dict's order is the column order."""
    two_rows: bool = False

    def sheet(self) -> tuple[Sheet, tuple[Merge, ...]]:
        fields = list(self.labels)
        header: list[Cell] = [self.labels[name] for name in fields]
        rows: Sheet = [*TITLE]
        merges: list[Merge] = []
        if self.two_rows:
            top = len(rows)
            sub: list[Cell] = ["" for _ in fields]
            first, last = fields.index("first"), fields.index("last")
            header[first], header[last] = "Thời điểm ghi nhận", ""
            sub[first], sub[last] = "Đầu", "Cuối"
            merges.append(Merge(top, top, first, last))
            merges.extend(
                Merge(top, top + 1, column, column)
                for column in range(len(fields))
                if column not in (first, last)
            )
            rows += [header, sub]
        else:
            rows.append(header)
        rows += [[host[name] for name in fields] for host in HOSTS]
        return rows, tuple(merges)


VARIANTS = {
    "vietnamese": Variant(
        {
            "no": "STT",
            "ip": "Địa chỉ IP",
            "first": "Thời gian phát hiện đầu",
            "last": "Thời gian phát hiện cuối",
            "family": "Tên botnet",
            "count": "Số lần",
            "isp": "ISP",
            "asn": "ASN",
            "province": "Tỉnh/thành",
            "org": "Đơn vị quản lý",
            "c2": "Máy chủ điều khiển (C2)",
        }
    ),
    "without marks": Variant(
        {
            "no": "STT",
            "ip": "Dia chi IP",
            "first": "Thoi gian phat hien dau",
            "last": "Thoi gian phat hien cuoi",
            "family": "Ho ma doc",
            "count": "So lan",
            "isp": "Nha mang",
            "asn": "ASN",
            "province": "Tinh/thanh",
            "org": "Don vi quan ly",
            "c2": "C2",
        }
    ),
    "english, another order": Variant(
        {
            "family": "Malware family",
            "ip": "IP address",
            "no": "No.",
            "c2": "C2 server",
            "last": "Last seen",
            "first": "First seen",
            "province": "Province",
            "isp": "ISP",
            "asn": "AS number",
            "count": "Count",
            "org": "Organisation",
        }
    ),
    "two-row merged header": Variant(
        {
            "no": "STT",
            "ip": "Địa chỉ IP",
            "first": "",
            "last": "",
            "family": "Họ mã độc",
            "count": "Số lần ghi nhận",
            "isp": "Nhà mạng",
            "asn": "Số hiệu mạng",
            "province": "Tỉnh/Thành phố",
            "org": "Cơ quan, đơn vị",
            "c2": "Cổng C2",
        },
        two_rows=True,
    ),
}
WRITERS: dict[str, Callable[[Path, Sheet, tuple[Merge, ...]], Path]] = {
    "xlsx": write_xlsx,
    "xls": write_xls,
    "csv": lambda path, rows, merges: write_csv(path, rows),
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_header_variants_in_every_file_kind(tmp_path: Path, variant: str, kind: str) -> None:
    rows, merges = VARIANTS[variant].sheet()
    path = WRITERS[kind](tmp_path / f"danh-sach-botnet.{kind}", rows, merges)
    events, problems = _parse(path)
    assert problems == []
    assert [event.value for event in events] == ["203.0.113.17", "198.51.100.23", "2001:db8:4a::17"]
    first_data_row = len(TITLE) + (3 if VARIANTS[variant].two_rows else 2)
    assert [event.line for event in events] == [
        first_data_row,
        first_data_row + 1,
        first_data_row + 2,
    ]
    mirai, conficker, sality = events
    assert mirai.indicator_type is IndicatorType.IPV4
    assert sality.indicator_type is IndicatorType.IPV6
    assert mirai.time_source == _utc(2026, 10, 1, 1, 15, 22)  # 08:15:22 in Hà Nội
    assert mirai.last_seen == _utc(2026, 10, 3, 2, 0, 0)
    assert sality.time_source == _utc(2026, 10, 3, 17, 0, 0)
    assert (mirai.malware_name, conficker.malware_name, sality.malware_name) == (
        "mirai",
        "conficker",
        "sality",
    )
    assert conficker.extra["malware_family"] == "Conficker/Downadup"
    assert conficker.extra["organisation"] == "Sở Y tế tỉnh Sơn Lâm"
    assert (mirai.count, conficker.count) == (37, 1204)
    assert (mirai.source_as_name, mirai.source_asn) == ("VNPT", 45899)
    assert (conficker.source_as_name, conficker.source_asn) == ("Viettel", 7552)
    assert mirai.source_geolocation_region == "Sơn Lâm"
    assert (mirai.destination_ip, mirai.destination_port) == ("198.51.100.201", 23)
    assert (sality.destination_ip, sality.destination_port) == (None, 443)
    assert (mirai.classification_taxonomy, mirai.classification_type) == (
        "malicious-code",
        "infected-system",
    )
    assert mirai.classification_identifier == "mirai"
    assert mirai.feed_name == "botnet-list"
    assert mirai.sheet == (None if kind == "csv" else ("Botnet" if kind == "xlsx" else "Danh sach"))
    assert "203.0.113.17" in mirai.raw and "Mirai" in mirai.raw


@pytest.mark.parametrize("kind", ["xlsx", "xls", "csv"])
def test_detect_format_prefers_the_botnet_list(tmp_path: Path, kind: str) -> None:
    rows, merges = VARIANTS["vietnamese"].sheet()
    path = WRITERS[kind](tmp_path / f"thang-10.{kind}", rows, merges)
    assert detect_format(FeedDocument.from_path(path)).name == "botnet-list"


def test_one_recording_time_column(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "list.xlsx",
        [
            ["STT", "IP", "Thời điểm ghi nhận", "Tên botnet"],
            [1, "203.0.113.5", datetime(2026, 10, 9, 7, 0), "Necurs"],
        ],
    )
    [event], _ = _parse(path)
    assert (event.time_source, event.last_seen) == (_utc(2026, 10, 9, 0, 0), None)
    assert event.malware_name == "necurs"


def test_the_csv_fixture(tmp_path: Path) -> None:
    path = FIXTURE / "danh-sach-botnet-2026-10.csv"
    events, problems = _parse(path)
    assert len(events) == 19
    [problem] = problems  # the footer 'Tổng cộng' is a note, not a problem
    assert (problem.row, problem.column) == (18, "Địa chỉ IP")
    assert "'203.0.113.2555' is not an IPv4 address" in problem.reason
    by_line = {event.line: event for event in events}
    mozi = by_line[16]
    assert (mozi.value, mozi.malware_name, mozi.count) == ("203.0.113.201", "mozi", 1532)
    assert mozi.time_source == _utc(2026, 10, 5, 16, 59, 59)
    conficker = by_line[9]
    assert conficker.extra == {
        "malware_family": "Conficker/Downadup",
        "organisation": "Sở Y tế tỉnh Sơn Lâm",
    }
    assert conficker.source_port == 49817
    assert by_line[13].time_source == _utc(2026, 10, 2, 17, 0)  # 03/10/2026, no time
    assert by_line[14].time_source == _utc(2026, 10, 4, 0, 30)  # ISO, no zone
    assert {event.source_as_name for event in events} == {"VNPT", "Viettel", "FPT"}
    assert {event.source_asn for event in events} == {45899, 7552, 18403}
    assert detect_format(FeedDocument.from_path(path)).name == "botnet-list"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01/10/2026 08:15:22", _utc(2026, 10, 1, 1, 15, 22)),
        ("1/10/2026 8:15", _utc(2026, 10, 1, 1, 15)),
        ("01/10/2026", _utc(2026, 9, 30, 17, 0)),
        ("01-10-2026 08:15", _utc(2026, 10, 1, 1, 15)),
        ("2026-10-01 08:15:22", _utc(2026, 10, 1, 1, 15, 22)),
        ("2026-10-01T08:15:22+00:00", _utc(2026, 10, 1, 8, 15, 22)),
        ("2026-10-01T08:15:22Z", _utc(2026, 10, 1, 8, 15, 22)),
        (46296.25, _utc(2026, 9, 30, 23, 0)),  # an Excel serial: 01/10/2026 06:00 local
        ("46296.5", _utc(2026, 10, 1, 5, 0)),
        (datetime(2026, 10, 1, 8, 0), _utc(2026, 10, 1, 1, 0)),
    ],
)
def test_times_are_local_unless_they_say_otherwise(value: object, expected: datetime) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["32/10/2026", "31/02/2026 08:00:00", "hôm qua", "10/2026", True])
def test_bad_times(value: object) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_time(value)


def test_excel_serial_dates_in_a_workbook(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "serials.xlsx",
        [["Địa chỉ IP", "Thời điểm ghi nhận", "Tên botnet"], ["203.0.113.8", 46296.5, "Zeus"]],
    )
    [event], _ = _parse(path)
    assert event.time_source == _utc(2026, 10, 1, 5, 0)


def test_bad_rows_are_problems_with_row_and_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "loi.csv",
        [
            ["STT", "Địa chỉ IP", "Thời điểm ghi nhận", "Tên botnet", "Số lần", "ASN", "C2"],
            [1, "203.0.113.300", "01/10/2026 08:00:00", "Mirai", 3, "AS45899", ""],
            [2, "203.0.113.4", "32/10/2026 08:00:00", "Mirai", 3, "AS45899", ""],
            [3, "203.0.113.5", "01/10/2026 08:00:00", "Mirai", "nhiều", "AS-VNPT", "c2:99999"],
            [4, "", "01/10/2026 08:00:00", "Mirai", 3, "AS45899", ""],
            [5, "203.0.113.6", "-", "Gamarue", "N/A", "", "198.51.100.300:80"],
            [6, "203.0.113.7:8080", "01/10/2026 08:00:00", "Sality", 1, "", ""],
        ],
    )
    events, problems = _parse(path)
    assert [(p.row, p.column) for p in problems] == [
        (2, "Địa chỉ IP"),
        (3, "Thời điểm ghi nhận"),
        (4, "Số lần"),
        (4, "ASN"),
        (4, "C2"),
        (5, "Địa chỉ IP"),
        (6, "C2"),
    ]
    assert all(p.file == "loi.csv" and p.sheet is None for p in problems)
    assert "'32/10/2026 08:00:00' is not a date" in problems[1].reason
    assert "the row is skipped" in problems[0].reason
    assert "left out" in problems[2].reason
    assert [event.value for event in events] == ["203.0.113.5", "203.0.113.6", "203.0.113.7"]
    kept, blank_time, with_port = events
    assert (kept.count, kept.source_asn, kept.destination_port) == (None, None, None)
    assert kept.malware_name == "mirai"
    assert (blank_time.time_source, blank_time.count) == (None, None)
    assert with_port.source_port == 8080


def test_duplicated_headers_name_both_columns(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "trung.xlsx",
        [*TITLE, ["STT", "IP", "Tên botnet", "Địa chỉ IP"], [1, "203.0.113.1", "Mirai", "x"]],
    )
    with pytest.raises(InputError) as caught:
        _parse(path)
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.sheet) == (4, "Địa chỉ IP", "Botnet")
    assert "'IP' and 'Địa chỉ IP' both mean 'ip'" in problem.reason


def test_a_million_empty_rows_finish_fast(tmp_path: Path) -> None:
    """A stray space in row 1,048,576 (Ctrl+End lands there) makes calamine hand over a
    million empty rows; they are skipped quickly and the list is reported empty."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["STT", "Địa chỉ IP", "Tên botnet"])
    sheet.cell(row=1_048_576, column=3, value=" ")
    path = tmp_path / "rong.xlsx"
    workbook.save(path)
    started = time.perf_counter()
    with pytest.raises(InputError, match="no data rows"):
        _parse(path)
    assert time.perf_counter() - started < 15


def test_no_header_anywhere(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ghichu.xlsx", [["Ghi chú: danh sách sẽ gửi sau"]])
    with pytest.raises(InputError, match="no botnet list header row"):
        _parse(path)


def test_instruction_sheets_are_skipped(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Hướng dẫn"
    notes.append(["Đề nghị các đơn vị rà soát, xử lý các địa chỉ IP dưới đây"])
    data = workbook.create_sheet("Tháng 10")
    data.append(["STT", "Địa chỉ IP", "Tên botnet", "Nhà mạng"])
    data.append([1, "198.51.100.9", "Ramnit", "Viettel"])
    path = tmp_path / "nhieu-sheet.xlsx"
    workbook.save(path)
    [event], problems = _parse(path)
    assert not problems
    assert (event.sheet, event.line, event.malware_name) == ("Tháng 10", 2, "ramnit")


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "hong.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(InputError, match="not a readable XLSX/XLS workbook"):
        _parse(path)


def test_unmapped_columns_go_to_extra(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "them-cot.csv",
        [["Địa chỉ IP", "Tên botnet", "Ghi chú xử lý"], ["203.0.113.77", "Mirai", "đã gửi VNPT"]],
    )
    [event], _ = _parse(path)
    assert event.extra == {"Ghi chú xử lý": "đã gửi VNPT"}


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("Conficker/Downadup", "conficker"),
        ("Win32.Sality.AT", "sality"),
        ("Trojan.Win32.Ramnit", "ramnit"),
        ("Mirai (biến thể)", "mirai"),
        ("ZeuS GameOver", "zeus gameover"),
        ("Gamarue, Andromeda", "gamarue"),
        ("Necurs", "necurs"),
    ],
)
def test_family_names(text: str, family: str) -> None:
    assert family_name(text) == family


def test_sniff_is_confident_on_a_list_but_not_on_an_indicator_table(tmp_path: Path) -> None:
    rows, merges = VARIANTS["two-row merged header"].sheet()
    path = write_xlsx(tmp_path / "a.xlsx", rows, merges)
    document = FeedDocument.from_path(path)
    assert FORMAT.sniff(document, document.head()) == 0.8
    table = write_csv(
        tmp_path / "iocs.csv", [["indicator", "type", "malware"], ["203.0.113.1", "ip", "Emotet"]]
    )
    assert FORMAT.sniff(FeedDocument.from_path(table), table.read_bytes()) < 0.6


def test_column_numbering_row_under_the_header_is_not_data(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "cong-van.xlsx",
        [
            *TITLE,
            ["STT", "Địa chỉ IP", "Thời điểm ghi nhận", "Tên botnet", "Nhà mạng"],
            ["(1)", "(2)", "(3)", "(4)", "(5)"],
            [1, "203.0.113.40", "02/10/2026 10:00", "Mirai", "VNPT"],
        ],
    )
    [event], problems = _parse(path)
    assert not problems
    assert (event.line, event.value) == (6, "203.0.113.40")


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-16", "\t"), ("utf-16-le", "\t"), ("cp1258", ";")]
)
def test_csv_in_the_encodings_excel_writes(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """'Unicode text' (UTF-16, tabs), with or without a BOM, and Windows' Vietnamese code page."""
    text = (
        f"Địa chỉ IP{delimiter}Tên botnet{delimiter}Tỉnh/thành\r\n"
        f"203.0.113.50{delimiter}Ramnit{delimiter}Sơn Lâm\r\n"
    )
    path = tmp_path / "unicode.csv"
    path.write_bytes(_windows_vietnamese(text) if encoding == "cp1258" else text.encode(encoding))
    [event], problems = _parse(path)
    assert not problems
    assert (event.value, event.malware_name, event.source_geolocation_region) == (
        "203.0.113.50",
        "ramnit",
        "Sơn Lâm",
    )
    assert event.line == 2


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _windows_vietnamese(text: str) -> bytes:
    """cp1258 as Windows writes it: letters with their vowel marks, tones as combining marks."""
    spelled = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(mark for mark in parts if mark in _TONES)
        base = unicodedata.normalize("NFC", "".join(mark for mark in parts if mark not in _TONES))
        spelled.append(base + tones)
    return "".join(spelled).encode("cp1258")
