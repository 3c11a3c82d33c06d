"""Property tests: whatever a CSV or spreadsheet holds, the Shadowserver, botnet-list and
generic-table parsers yield events and row problems or reject the whole file with InputError;
they never fail any other way.

CSV files are built from the real samples, mutated, re-encoded and renamed; workbooks are built
from random grids of header words, addresses, numbers, dates and noise.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, format_named
from garrison.intel.formats._table_rows import (
    as_number,
    family_name,
    parse_time,
    split_host_port,
    whole_number,
)

FORMATS = ("shadowserver", "botnet-list", "csv")
SHARED_SAMPLES = (
    "feeds/shadowserver/event4_sinkhole.csv",
    "feeds/shadowserver/event6_sinkhole_http.csv",
    "feeds/shadowserver/compromised_website.csv",
    "feeds/shadowserver/scan_exchange.csv",
    "feeds/shadowserver/malware_url.csv",
    "feeds/shadowserver_legacy/drone_brute_force.csv",
    "feeds/generic_csv/sample_report.csv",
)
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "intel" / "botnet_list"
NAMES = (
    "2026-10-01-event4_sinkhole-vietnam-geo.csv",
    "scan_rdp.csv",
    "danh-sach-botnet-2026-10.csv",
    "iocs.csv",
    "upload",
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "latin-1"])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
PIECES = st.sampled_from(
    [",", ";", "\t", '"', "\n", "\r\n", "#", ":", "/", ".", "-", "  ", "\x00", "AS", "0"]
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def samples(shared_data: Path) -> list[str]:
    paths = [shared_data / relative for relative in SHARED_SAMPLES]
    paths += sorted(FIXTURE.glob("*.csv"))
    return [path.read_text(encoding="utf-8-sig") for path in paths]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tables-fuzz")


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few pieces inserted, deleted or replaced, or cut short."""
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "cut"]))
        piece = draw(PIECES | TEXT)
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif action == "replace":
            text = text[:at] + piece + text[at + len(piece) :]
        else:
            text = text[:at]
    return text


def _check(path: Path, name: str) -> None:
    """Every parser reads the file to the end or rejects it; nothing else."""
    for format_name in FORMATS:
        try:
            items = list(format_named(format_name).parse(FeedDocument(path, name)))
        except InputError as exc:
            assert exc.problems and all(p.file == name for p in exc.problems)
            continue
        for item in items:
            assert isinstance(item, IntelEvent | RowProblem)
            if isinstance(item, IntelEvent):
                assert item.value and isinstance(item.line, int)
                for moment in (item.time_source, item.last_seen):
                    assert moment is None or moment.utcoffset() is not None
            else:
                assert item.file == name and item.reason


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), encoding=ENCODINGS, name=st.sampled_from(NAMES))
def test_mutated_csv_files(
    samples: list[str], workdir: Path, data: st.DataObject, encoding: str, name: str
) -> None:
    text = data.draw(mutated(data.draw(st.sampled_from(samples))))
    path = workdir / f"{next(_counter)}.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    _check(path, name)


HEADER_WORDS = st.sampled_from(
    [
        "STT",
        "Địa chỉ IP",
        "IP",
        "Dia chi IP",
        "Thời điểm ghi nhận",
        "Đầu",
        "Cuối",
        "Tên botnet",
        "Số lần",
        "ISP",
        "ASN",
        "Tỉnh/thành",
        "Máy chủ điều khiển (C2)",
        "Cổng",
        "indicator",
        "type",
        "tlp",
        "confidence",
        "timestamp",
        "src_ip",
    ]
)
VALUES = st.one_of(
    HEADER_WORDS,
    st.sampled_from(["203.0.113.7", "2001:db8::1", "198.51.100.1:443", "evil.example", "-"]),
    st.sampled_from(["01/10/2026 08:00:00", "32/13/2026", "AS45899", "Mirai", "amber", "1.532"]),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.booleans(),
    st.none(),
    TEXT.filter(lambda text: not text.startswith("=")),  # no formulas: openpyxl would write one
)
GRIDS = st.lists(st.lists(VALUES, min_size=1, max_size=8), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=GRIDS, title=st.sampled_from(["Botnet", "Tháng 10", "IOC"]))
def test_random_workbooks(workdir: Path, grid: list[list[object]], title: str) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in grid:
        sheet.append([_storable(value) for value in row])
    path = workdir / f"{next(_counter)}.xlsx"
    workbook.save(path)
    _check(path, "danh-sach.xlsx")


def _storable(value: object) -> object:
    """What openpyxl can store: text without control characters openpyxl refuses."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isprintable() or ch == " ")
    return value


@settings(max_examples=200, deadline=None)
@given(
    head=st.sampled_from([b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b""]),
    body=st.binary(max_size=300),
)
def test_broken_workbooks(workdir: Path, head: bytes, body: bytes) -> None:
    path = workdir / f"{next(_counter)}.xlsx"
    path.write_bytes(head + body)
    _check(path, "hong.xlsx")


@settings(max_examples=200, deadline=None)
@given(value=VALUES)
def test_cell_readers_fail_only_with_value_error(value: object) -> None:
    for read in (parse_time, whole_number, as_number):
        try:
            result = read(value)
        except ValueError:
            continue
        if isinstance(result, datetime):
            assert result.tzinfo is UTC
    if isinstance(value, str):
        family_name(value)
        with contextlib.suppress(ValueError):
            split_host_port(value)
