"""The botnet IP lists the national authority sends each province every month (XLSX, XLS, CSV).

No column specification exists: each month's sheet may name its columns in Vietnamese (with or
without marks) or English, in any order, under title rows ('DANH SÁCH ĐỊA CHỈ IP NHIỄM MÃ ĐỘC
BOTNET …'), with a two-row header whose first row is merged ('Thời điểm ghi nhận' over 'Đầu' and
'Cuối'). Times without a zone are Vietnam's local time. Only the IP column is required. A row
whose address or time cannot be read is a problem; a bad context value (count, AS number, C2)
is reported and left out, and the infected address still counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from garrison.core.errors import RowProblem
from garrison.core.tabular.headers import ColumnSpec, TableSpec, normalise_header
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._table_rows import (
    Header,
    Row,
    address_type,
    as_number,
    as_text,
    family_name,
    find_header,
    head_rows,
    header_fields,
    is_blank,
    no_data_rows,
    no_header,
    parse_time,
    port_number,
    read_sheets,
    split_host_port,
    whole_number,
)
from garrison.intel.normalise import InvalidIndicator

SPEC = TableSpec(
    "botnet list",
    (
        ColumnSpec("row_number", ("STT", "TT", "Số TT", "Số thứ tự", "No", "No.", "#")),
        ColumnSpec(
            "ip",
            (
                "Địa chỉ IP",
                "IP",
                "Địa chỉ IP nhiễm",
                "Địa chỉ IP bị nhiễm",
                "Địa chỉ IP nhiễm mã độc",
                "IP nhiễm",
                "IP bị nhiễm",
                "IP nhiễm mã độc",
                "IP máy nhiễm",
                "IP address",
                "Source IP",
                "Infected IP",
            ),
            required=True,
        ),
        ColumnSpec(
            "seen",
            (
                "Thời điểm ghi nhận",
                "Thời gian ghi nhận",
                "Thời điểm phát hiện",
                "Thời gian phát hiện",
                "Ngày ghi nhận",
                "Ngày phát hiện",
                "Thời gian",
                "Thời điểm",
                "Time",
                "Timestamp",
                "Date",
                "Detection time",
                "Seen",
            ),
        ),
        ColumnSpec(
            "first_seen",
            (
                "Thời gian phát hiện đầu",
                "Thời gian phát hiện đầu tiên",
                "Thời điểm phát hiện đầu",
                "Thời điểm ghi nhận đầu",
                "Thời gian ghi nhận đầu",
                "Thời gian lần đầu",
                "Thời gian đầu",
                "Thời điểm đầu",
                "Phát hiện đầu",
                "Phát hiện lần đầu",
                "Ghi nhận lần đầu",
                "Lần đầu",
                "Đầu",
                "First seen",
                "First detected",
                "Seen first",
            ),
        ),
        ColumnSpec(
            "last_seen",
            (
                "Thời gian phát hiện cuối",
                "Thời gian phát hiện cuối cùng",
                "Thời gian phát hiện gần nhất",
                "Thời điểm phát hiện cuối",
                "Thời điểm ghi nhận cuối",
                "Thời gian ghi nhận cuối",
                "Thời gian lần cuối",
                "Thời gian cuối",
                "Thời điểm cuối",
                "Phát hiện cuối",
                "Phát hiện lần cuối",
                "Ghi nhận lần cuối",
                "Lần cuối",
                "Cuối",
                "Last seen",
                "Last detected",
                "Seen last",
            ),
        ),
        ColumnSpec(
            "family",
            (
                "Tên botnet",
                "Botnet",
                "Họ mã độc",
                "Tên họ mã độc",
                "Loại mã độc",
                "Tên mã độc",
                "Dòng mã độc",
                "Mã độc",
                "Họ botnet",
                "Loại botnet",
                "Malware",
                "Malware family",
                "Family",
                "Botnet name",
            ),
        ),
        ColumnSpec(
            "count",
            (
                "Số lần",
                "Số lần ghi nhận",
                "Số lần phát hiện",
                "Số lần kết nối",
                "Số lượt",
                "Số lượt ghi nhận",
                "Số kết nối",
                "Count",
                "Hits",
                "Times seen",
            ),
        ),
        ColumnSpec(
            "isp",
            (
                "ISP",
                "Nhà mạng",
                "Nhà mạng quản lý",
                "ISP quản lý",
                "Nhà cung cấp",
                "Nhà cung cấp dịch vụ",
                "Doanh nghiệp",
                "Doanh nghiệp cung cấp dịch vụ",
                "Provider",
                "AS name",
            ),
        ),
        ColumnSpec("asn", ("ASN", "AS", "Số hiệu mạng", "Số hiệu AS", "AS number")),
        ColumnSpec(
            "province",
            (
                "Tỉnh/thành",
                "Tỉnh/Thành phố",
                "Tỉnh, thành phố",
                "Tỉnh thành",
                "Tỉnh/TP",
                "Tỉnh",
                "Địa phương",
                "Địa bàn",
                "Province",
                "Region",
            ),
        ),
        ColumnSpec(
            "organisation",
            (
                "Đơn vị quản lý",
                "Đơn vị",
                "Đơn vị sử dụng",
                "Cơ quan, đơn vị",
                "Cơ quan quản lý",
                "Cơ quan",
                "Tổ chức",
                "Chủ quản",
                "Organisation",
                "Organization",
                "Owner",
            ),
        ),
        ColumnSpec(
            "c2",
            (
                "C2",
                "C&C",
                "CnC",
                "Cổng C2",
                "C2 port",
                "Máy chủ điều khiển",
                "Máy chủ điều khiển (C2)",
                "Máy chủ C2",
                "Máy chủ C&C",
                "Địa chỉ C2",
                "IP C2",
                "C2 IP",
                "C2 server",
            ),
        ),
        ColumnSpec("port", ("Cổng", "Port", "Cổng kết nối", "Cổng nguồn", "Source port")),
    ),
)
_EXPECTED = ("Địa chỉ IP", "Tên botnet", "Thời điểm ghi nhận", "ISP", "Tỉnh/thành")
_TIMES = frozenset({"seen", "first_seen", "last_seen"})
_NAME_HINTS = ("botnet", "ma doc", "malware")
_LIST_ONLY = frozenset({"isp", "province", "organisation", "c2", "count"})
_INDICATOR_TABLE = frozenset(
    normalise_header(name)
    for name in ("indicator", "ioc", "value", "type", "tlp", "confidence", "url", "domain", "hash")
)


def _accepts(fields: set[str]) -> bool:
    return "ip" in fields


_NUMBERS: tuple[tuple[str, Callable[[object], int], str], ...] = (
    ("count", whole_number, "count"),
    ("asn", as_number, "source_asn"),
    ("port", port_number, "source_port"),
)
_TEXTS = (
    ("isp", "source_as_name"),
    ("province", "source_geolocation_region"),
)


@dataclass
class _SheetReader:
    """Reads the data rows under one sheet's header. Which fields are present is worked out
    once and cells are indexed directly, since a list may have a million rows."""

    document: FeedDocument
    sheet: str | None
    header: Header

    def __post_init__(self) -> None:
        index = {field: column for column, field in self.header.columns.items()}
        self.width = max([*index.values(), *self.header.others]) + 1
        self.ip = index["ip"]
        self.times = [(field, index[field]) for field in sorted(_TIMES) if field in index]
        self.numbers = [(f, index[f], read, target) for f, read, target in _NUMBERS if f in index]
        self.texts = [(field, index[field], target) for field, target in _TEXTS if field in index]
        self.family = index.get("family")
        self.organisation = index.get("organisation")
        self.c2 = index.get("c2")

    def problem(self, row: Row, field: str | None, reason: str) -> RowProblem:
        return self.header.problem(self.document, row, field, reason, self.sheet)

    def items(self, row: Row) -> Iterator[ParsedItem]:
        cells = row.cells
        if len(cells) < self.width:
            cells = [*cells, *[""] * (self.width - len(cells))]
        address = as_text(cells[self.ip])
        if is_blank(address):
            if sum(1 for value in cells if as_text(value)) > 1:
                yield self.problem(row, "ip", "no IP address; the row is skipped")
            return  # a lone note or total under the table is not a row of the list
        port: int | None = None
        if address.count(":") == 1 and "." in address:  # '203.0.113.5:8080'
            address, _, port_text = address.partition(":")
            try:
                port = port_number(port_text)
            except ValueError as exc:
                yield self.problem(row, "ip", f"{exc}; the row is skipped")
                return
        try:
            kind = address_type(address)
        except InvalidIndicator as exc:
            yield self.problem(row, "ip", f"{exc}; the row is skipped")
            return
        times: dict[str, datetime] = {}
        for field, column in self.times:
            value = cells[column]
            if value == "":
                continue
            try:
                times[field] = parse_time(value)
            except ValueError as exc:
                if not is_blank(value):
                    yield self.problem(row, field, f"{exc}; the row is skipped")
                    return
        event = IntelEvent(
            kind,
            address,
            "botnet-list",
            line=row.number,
            sheet=self.sheet,
            time_source=times.get("first_seen") or times.get("seen"),
            last_seen=times.get("last_seen"),
            classification_taxonomy="malicious-code",
            classification_type="infected-system",
            source_port=port,
            raw=row.raw,
        )
        yield from self._context(row, cells, event)
        event.classification_identifier = event.malware_name or "botnet"
        yield event

    def _context(self, row: Row, cells: Sequence[object], event: IntelEvent) -> list[RowProblem]:
        """Everything but the address and times; a value that cannot be read is reported and
        left out."""
        problems = []
        if self.family is not None:
            family = as_text(cells[self.family])
            if family and not is_blank(family):
                event.malware_name = family_name(family)
                if event.malware_name != family.lower():
                    event.extra["malware_family"] = family
        for field, column, read, target in self.numbers:
            value = cells[column]
            if value == "":
                continue
            try:
                setattr(event, target, read(value))
            except ValueError as exc:
                if not is_blank(value):
                    problems.append(self.problem(row, field, f"{exc}; left out"))
        for _field, column, target in self.texts:
            text = as_text(cells[column])
            if text and not is_blank(text):
                setattr(event, target, text)
        if self.organisation is not None:
            organisation = as_text(cells[self.organisation])
            if organisation and not is_blank(organisation):
                event.extra["organisation"] = organisation
        c2 = cells[self.c2] if self.c2 is not None else ""
        if c2 != "" and not is_blank(c2):
            try:
                event.destination_ip, event.destination_fqdn, event.destination_port = (
                    command_and_control(c2)
                )
            except (ValueError, InvalidIndicator) as exc:
                problems.append(self.problem(row, "c2", f"{exc}; the C2 is left out"))
        for column, label in self.header.others.items():
            text = as_text(cells[column])
            if text and not is_blank(text):
                event.extra[label] = text
        return problems


@lru_cache(maxsize=4096)
def command_and_control(value: object) -> tuple[str | None, str | None, int | None]:
    """(address, host name, port) from '198.51.100.7:443', 'c2.example:8080', '443' or 443;
    a month's list names a handful of C2s thousands of times, hence the cache."""
    if isinstance(value, int | float):
        return None, None, port_number(value)
    host, port = split_host_port(str(value))
    if not host:
        return None, None, port
    if _ADDRESS_CHARACTERS.fullmatch(host):
        address_type(host)
        return host, None, port
    return None, host, port


_ADDRESS_CHARACTERS = re.compile(r"[0-9a-fA-F:.]+")


class BotnetListFormat:
    name = "botnet-list"
    title = "Botnet IP lists from the national authority (XLSX, XLS, CSV)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        rows = head_rows(document, head)
        fields = header_fields(SPEC, rows)
        if "ip" not in fields:
            return 0.0
        if any(normalise_header(cell) in _INDICATOR_TABLE for cells in rows for cell in cells):
            return 0.3  # an indicator table that happens to have an IP column
        if "family" in fields:
            return 0.8
        if fields & _LIST_ONLY:
            return 0.7
        named = any(hint in normalise_header(document.name) for hint in _NAME_HINTS)
        return 0.7 if named and fields & _TIMES else 0.3

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        headers_found = 0
        data_rows = 0
        last: tuple[Header, str | None] | None = None
        for sheet in read_sheets(document):
            header, rows = find_header(document, sheet, SPEC, _accepts)
            if header is None:
                continue  # an instructions or summary sheet
            headers_found += 1
            last = header, sheet.name
            reader = _SheetReader(document, sheet.name, header)
            for row in rows:
                data_rows += 1
                yield from reader.items(row)
        if not headers_found:
            raise no_header(document, SPEC, _EXPECTED)
        if not data_rows and last:
            raise no_data_rows(document, *last)


FORMAT = BotnetListFormat()
