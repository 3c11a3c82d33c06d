"""Generic indicator tables: named columns (Vietnamese or English), one column per kind, and
the headerless CSV of the shared sample."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import xlwt

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, detect_format
from garrison.intel.formats.generic_table import FORMAT, confidence
from garrison.intel.types import IndicatorType, Tlp

T = IndicatorType
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _parse(path: Path) -> tuple[list[IntelEvent], list[RowProblem]]:
    items = list(FORMAT.parse(FeedDocument.from_path(path)))
    events = [item for item in items if isinstance(item, IntelEvent)]
    problems = [item for item in items if isinstance(item, RowProblem)]
    assert len(events) + len(problems) == len(items)
    return events, problems


def _csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, delimiter=delimiter).writerows(rows)
    return path


def test_headerless_shared_sample(shared_data: Path) -> None:
    path = shared_data / "feeds" / "generic_csv" / "sample_report.csv"
    events, problems = _parse(path)
    assert problems == []
    assert [(e.line, e.indicator_type, e.value) for e in events] == [
        (11, T.URL, "www.cennoworld.com/Payment_Confirmation/Payment_Confirmation.zip"),
        (11, T.IPV4, "198.105.221.5"),
        (11, T.DOMAIN, "mail5.bulls.unisonplatform.com"),
        (12, T.URL, "www.cennoworld.com/Payment_Confirmation/Payment_Confirmation.zip"),
        (12, T.IPV4, "198.105.221.161"),
        (12, T.DOMAIN, "mail5.bulls.unisonplatform.com"),
    ]
    first = events[0]
    assert first.time_source == datetime(2015, 12, 13, 21, 19, tzinfo=UTC)  # 04:19 in Hà Nội
    assert first.extra == {
        "column 2": "Testing",
        "column 3": "Really bad actor site comment",
        "column 4": "Nothing",
        "column 5": "Unimportant",
        "column 9": "just another comment",
    }
    assert first.feed_name == "csv"
    assert first.raw.startswith("2015-12-14 04:19:00\tTesting\t")
    document = FeedDocument.from_path(path)
    assert FORMAT.sniff(document, document.head()) == 0.4


def test_value_and_type_columns(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "iocs.csv",
        [
            [
                *("Indicator", "Type", "First seen", "Last seen", "Malware", "Tags"),
                *("Confidence", "TLP", "Description", "Comment"),
            ],
            [
                *("198.51.100.23", "ip-dst", "2026-10-01 08:00:00", "2026-10-02 08:00:00"),
                *("Emotet", "c2, epoch4", "90", "TLP:AMBER", "Emotet C2", "from CERT partner"),
            ],
            ["evil.example", "domain", "", "", "", "", "high", "green", "", ""],
            ["hxxp://evil[.]example/a.php", "", "", "", "", "", "", "", "", ""],
            [SHA256, "sha256", "", "", "Win32.Sality", "", "0.7", "", "", ""],
            ["203.0.113.0/24", "ip", "", "", "", "", "", "", "", ""],
            ["phish@evil.example", "email-src", "", "", "", "", "", "", "", ""],
        ],
    )
    events, problems = _parse(path)
    assert problems == []
    assert [(e.indicator_type, e.value) for e in events] == [
        (T.IPV4, "198.51.100.23"),
        (T.DOMAIN, "evil.example"),
        (T.URL, "hxxp://evil[.]example/a.php"),
        (T.SHA256, SHA256),
        (T.CIDR4, "203.0.113.0/24"),
        (T.EMAIL, "phish@evil.example"),
    ]
    emotet = events[0]
    assert emotet.time_source == datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
    assert emotet.last_seen == datetime(2026, 10, 2, 1, 0, tzinfo=UTC)
    assert (emotet.malware_name, emotet.confidence, emotet.tlp) == ("emotet", 90, Tlp.AMBER)
    assert emotet.tags == ("c2", "epoch4")
    assert emotet.description == "Emotet C2"
    assert emotet.extra == {"comment": "from CERT partner", "type": "ip-dst"}
    assert (events[1].confidence, events[1].tlp) == (85, Tlp.GREEN)
    assert (events[3].confidence, events[3].malware_name) == (70, "sality")
    assert events[3].extra["malware"] == "Win32.Sality"
    assert FORMAT.sniff(FeedDocument.from_path(path), path.read_bytes()) == 0.6
    assert detect_format(FeedDocument.from_path(path)).name == "csv"


def test_vietnamese_workbook_with_title_rows(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "IOC"
    sheet.append(["DANH SÁCH DẤU HIỆU NHẬN BIẾT TẤN CÔNG (IOC)"])
    sheet.append([])
    sheet.append(["STT", "Giá trị", "Loại", "Ngày phát hiện", "Họ mã độc", "Nhãn", "Ghi chú"])
    sheet.append(
        [1, "bo-y-te.example", "tên miền", datetime(2026, 10, 5, 9, 30), "Lumma", "apt", ""]
    )
    sheet.append([2, "203.0.113.99", "IP", "05/10/2026", "", "", "máy chủ C2"])
    path = tmp_path / "ioc.xlsx"
    workbook.save(path)
    events, problems = _parse(path)
    assert problems == []
    domain, address = events
    assert (domain.indicator_type, domain.value, domain.line, domain.sheet) == (
        T.DOMAIN,
        "bo-y-te.example",
        4,
        "IOC",
    )
    assert domain.time_source == datetime(2026, 10, 5, 2, 30, tzinfo=UTC)
    assert (domain.malware_name, domain.tags) == ("lumma", ("apt",))
    assert domain.extra == {"type": "tên miền", "STT": "1"}
    assert (address.indicator_type, address.value) == (T.IPV4, "203.0.113.99")
    assert address.time_source == datetime(2026, 10, 4, 17, 0, tzinfo=UTC)
    assert address.extra["comment"] == "máy chủ C2"


def test_one_column_per_kind_gives_an_event_per_cell(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "campaign.tsv",
        [
            ["ip", "domain", "url", "md5", "first_seen", "description"],
            ["198.51.100.7", "cdn.evil.example", "https://cdn.evil.example/x", "", "", "wave 1"],
            ["", "", "", "d41d8cd98f00b204e9800998ecf8427e", "", "dropper"],
        ],
        delimiter="\t",
    )
    events, problems = _parse(path)
    assert problems == []
    assert [(e.line, e.indicator_type, e.description) for e in events] == [
        (2, T.IPV4, "wave 1"),
        (2, T.DOMAIN, "wave 1"),
        (2, T.URL, "wave 1"),
        (3, T.MD5, "dropper"),
    ]


def test_xls_table(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("IOCs")
    for column, label in enumerate(["IOC", "Threat", "TLP"]):
        sheet.write(0, column, label)
    for column, value in enumerate(["http://203.0.113.5/bins/mips", "Mozi", "clear"]):
        sheet.write(1, column, value)
    path = tmp_path / "old.xls"
    book.save(str(path))
    [event], problems = _parse(path)
    assert not problems
    assert (event.indicator_type, event.malware_name, event.tlp, event.sheet) == (
        T.URL,
        "mozi",
        Tlp.CLEAR,
        "IOCs",
    )


def test_bad_values_are_problems_and_context_is_left_out(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "bad.csv",
        [
            ["indicator", "type", "first seen", "confidence", "tlp", "ip"],
            ["not an indicator", "", "", "", "", ""],
            ["evil.example", "", "yesterday", "very", "purple", ""],
            ["", "", "", "", "", "999.1.1.1"],
            ["", "", "", "", "", ""],
            ["good.example", "domain", "", "", "", "203.0.113.4"],
            ["", "", "2026-10-01", "", "", ""],
        ],
    )
    events, problems = _parse(path)
    assert [(p.row, p.column) for p in problems] == [
        (2, "indicator"),
        (3, "first seen"),
        (3, "confidence"),
        (3, "tlp"),
        (4, "ip"),
        (7, "indicator"),
    ]
    assert "not a domain name" in problems[0].reason
    assert "no indicator value" in problems[-1].reason
    assert [(e.line, e.value) for e in events] == [
        (3, "evil.example"),
        (6, "good.example"),
        (6, "203.0.113.4"),
    ]
    assert (events[0].time_source, events[0].confidence, events[0].tlp) == (None, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(80, 80), ("80%", 80), (0.8, 80), ("0,5", 50), ("High", 85), ("thấp", 15), (100.0, 100)],
)
def test_confidence(value: object, expected: int) -> None:
    assert confidence(value) == expected


@pytest.mark.parametrize("value", ["very", "150", -1, True])
def test_bad_confidence(value: object) -> None:
    with pytest.raises(ValueError, match="is not a confidence"):
        confidence(value)


def test_header_without_rows_and_a_file_without_indicators(tmp_path: Path) -> None:
    empty = _csv(tmp_path / "empty.csv", [["indicator", "type"]])
    with pytest.raises(InputError, match="no data rows"):
        _parse(empty)
    prose = _csv(tmp_path / "notes.csv", [["hello", "world"], ["nothing", "here"]])
    with pytest.raises(InputError, match="no column that holds indicators"):
        _parse(prose)


def test_the_botnet_list_and_shadowserver_win_over_the_generic_table(
    shared_data: Path, tmp_path: Path
) -> None:
    botnet = Path(__file__).parents[1] / "data" / "intel" / "botnet_list"
    document = FeedDocument.from_path(botnet / "danh-sach-botnet-2026-10.csv")
    assert FORMAT.sniff(document, document.head()) == 0.4
    assert detect_format(document).name == "botnet-list"
    report = FeedDocument.from_path(shared_data / "feeds/shadowserver/scan_rdp.csv")
    assert FORMAT.sniff(report, report.head()) == 0.6
    assert detect_format(report).name == "shadowserver"


def test_an_ioc_export_with_ip_port_values(tmp_path: Path) -> None:
    """ThreatFox-style export: 'ioc_value', 'ioc_type', 'first_seen_utc', 'malware_printable'."""
    path = _csv(
        tmp_path / "export.csv",
        [
            [
                *("first_seen_utc", "ioc_id", "ioc_value", "ioc_type", "threat_type"),
                *("malware_printable", "last_seen_utc", "confidence_level", "tags"),
            ],
            [
                *("2026-10-01 06:00:00", "1001", "198.51.100.7:443", "ip:port", "botnet_cc"),
                *("Cobalt Strike", "", "75", "CobaltStrike,c2"),
            ],
            [
                *("2026-10-01 06:05:00", "1002", "e3b0c44298fc1c149afbf4c8996fb924", "md5_hash"),
                *("payload", "Unknown malware", "", "50", ""),
            ],
        ],
    )
    events, problems = _parse(path)
    assert problems == []
    c2, payload = events
    assert (c2.indicator_type, c2.value, c2.source_port) == (T.IPV4, "198.51.100.7", 443)
    assert (c2.malware_name, c2.confidence, c2.tags) == (
        "cobalt strike",
        75,
        ("CobaltStrike", "c2"),
    )
    assert c2.extra == {"type": "ip:port", "ioc_id": "1001", "threat_type": "botnet_cc"}
    assert (payload.indicator_type, payload.source_port) == (T.MD5, None)
