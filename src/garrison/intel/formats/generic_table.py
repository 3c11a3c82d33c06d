"""Indicator tables people keep by hand or export from other tools (CSV, XLSX, XLS).

The header names the columns, in Vietnamese or English: one value column with an optional type
column (the type is guessed per row when there is none), or one column per kind (ip, domain,
url, hash …), each cell of which is an indicator; plus first/last seen, malware, tags,
confidence, TLP, description and comment. A file without a header (a CSV written by a script)
is read column by column: a column whose cells are nearly all indicators gives indicators,
one whose cells are dates gives the time. Times without a zone are Vietnam's local time.

A value that is no indicator is a problem for its row; a bad context value (a date, a TLP
label) is reported and left out, since the indicator is the point of such a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import Any

from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular.headers import ColumnSpec, TableSpec, normalise_header
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._table_rows import (
    HEADER_SEARCH_ROWS,
    Header,
    Row,
    address_type,
    family_name,
    find_header,
    head_rows,
    header_fields,
    is_blank,
    is_workbook,
    no_data_rows,
    parse_time,
    read_sheets,
)
from garrison.intel.normalise import InvalidIndicator, guess_indicator
from garrison.intel.types import IndicatorType, Tlp

T = IndicatorType

SPEC = TableSpec(
    "indicator table",
    (
        ColumnSpec(
            "value",
            (
                "indicator",
                "ioc",
                "value",
                "observable",
                "indicator value",
                "ioc value",
                "giá trị",
                "chỉ số",
                "chỉ báo",
                "chỉ dấu",
                "dấu hiệu",
                "dấu hiệu nhận biết",
            ),
        ),
        ColumnSpec("ip", ("ip", "ip address", "địa chỉ ip", "ipv4", "ipv6", "ip-dst", "ip-src")),
        ColumnSpec("cidr", ("cidr", "subnet", "ip range", "dải ip", "dải địa chỉ ip")),
        ColumnSpec("domain", ("domain", "domain name", "tên miền", "hostname", "fqdn")),
        ColumnSpec("url", ("url", "uri", "link", "đường dẫn", "liên kết")),
        ColumnSpec("hash", ("hash", "file hash", "mã băm", "giá trị băm")),
        ColumnSpec("md5", ("md5", "md5 hash")),
        ColumnSpec("sha1", ("sha1", "sha-1")),
        ColumnSpec("sha256", ("sha256", "sha-256")),
        ColumnSpec("email", ("email", "e-mail", "địa chỉ email", "thư điện tử")),
        ColumnSpec(
            "type",
            ("type", "indicator type", "ioc type", "loại", "kiểu", "loại chỉ số", "loại ioc"),
        ),
        ColumnSpec(
            "first_seen",
            (
                "first seen",
                "firstseen",
                "first seen utc",
                "date added",
                "dateadded",
                "timestamp",
                "date",
                "time",
                "created",
                "ngày",
                "thời gian",
                "thời điểm",
                "lần đầu",
                "ngày phát hiện",
            ),
        ),
        ColumnSpec(
            "last_seen",
            ("last seen", "lastseen", "last seen utc", "last online", "updated", "lần cuối"),
        ),
        ColumnSpec(
            "malware",
            (
                "malware",
                "family",
                "malware family",
                "malware printable",
                "threat",
                "threat name",
                "mã độc",
                "họ mã độc",
            ),
        ),
        ColumnSpec("tags", ("tags", "tag", "labels", "nhãn")),
        ColumnSpec("confidence", ("confidence", "confidence level", "score", "độ tin cậy")),
        ColumnSpec("tlp", ("tlp", "marking", "tlp marking")),
        ColumnSpec("description", ("description", "desc", "details", "mô tả", "chi tiết")),
        ColumnSpec("comment", ("comment", "comments", "note", "notes", "ghi chú")),
        ColumnSpec("expires", ("expires", "expiry", "valid until", "hết hạn")),
    ),
)

IP_KIND = "ip"
"""An IP column or type: IPv4, IPv6 or a network, decided by the value."""
GUESS = "guess"
_INDICATOR_COLUMNS: dict[str, IndicatorType | str] = {
    "value": GUESS,
    "ip": IP_KIND,
    "cidr": IP_KIND,
    "domain": T.DOMAIN,
    "url": T.URL,
    "hash": GUESS,
    "md5": T.MD5,
    "sha1": T.SHA1,
    "sha256": T.SHA256,
    "email": T.EMAIL,
}
_TYPE_NAMES: dict[str, IndicatorType | str] = {
    **{normalise_header(kind.value): kind for kind in IndicatorType},
    **{
        normalise_header(name): kind
        for kind, names in (
            (IP_KIND, "ip ip-src ip-dst ip-address ipv4-addr ipv6-addr ip-range network subnet"),
            (IP_KIND, "ip:port ip-port ip-dst|port ip-src|port"),
            (T.DOMAIN, "domain-name hostname fqdn host tên-miền"),
            (T.URL, "uri link"),
            (T.EMAIL, "email-src email-dst email-addr e-mail mail"),
            (T.FILENAME, "file file-name"),
            (T.PHONE, "phone-number điện-thoại số-điện-thoại"),
            (T.ASN, "as autonomous-system"),
            (GUESS, "hash file-hash"),
        )
        for name in [*names.split(), *(n.replace("-", " ") for n in names.split())]
    },
}
_CONFIDENCE_WORDS = {
    "high": 85,
    "cao": 85,
    "medium": 50,
    "trung binh": 50,
    "low": 15,
    "thap": 15,
}
_TAG_SEPARATORS = re.compile(r"[,;|]")
_IPV4_PORT = re.compile(
    r"^(?P<address>\d{1,3}(?:\.\d{1,3}){3})[:|](?P<port>6553[0-5]|655[0-2]\d|65[0-4]\d\d"
    r"|6[0-4]\d{3}|[1-5]?\d{1,4})$"
)
_HEADERLESS_SAMPLE = 50
_CLEAR_MAJORITY = 0.8


def _accepts(fields: set[str]) -> bool:
    return bool(fields & _INDICATOR_COLUMNS.keys())


def _indicator(kind: IndicatorType | str, text: str) -> IndicatorType:
    """The indicator type of a value in a column or of a type name; InvalidIndicator when the
    value is not one (a guess must read as some indicator; an IP must be an address)."""
    if kind == IP_KIND:
        return address_type(text)
    if isinstance(kind, IndicatorType):
        return kind
    return guess_indicator(text).type


def confidence(value: object) -> int:
    """0-100 from 80, '80%', 0.8 or 'high'/'cao'."""
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        word = _CONFIDENCE_WORDS.get(normalise_header(text))
        if word is not None:
            return word
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"{value!r} is not a confidence (0-100, or high/medium/low)") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value * 100 if 0 < value < 1 else value
        if 0 <= number <= 100:
            return round(number)
    raise ValueError(f"{value!r} is not a confidence (0-100, or high/medium/low)")


@dataclass
class _Context:
    """What a row says about its indicators, and what could not be read."""

    event: IntelEvent
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class _TableReader:
    """Reads the data rows under one sheet's header."""

    document: FeedDocument
    sheet: str | None
    header: Header

    def __post_init__(self) -> None:
        self.index = {name: column for column, name in self.header.columns.items()}
        self.indicator_fields = [name for name in _INDICATOR_COLUMNS if name in self.index]

    def problem(self, row: Row, name: str | None, reason: str) -> RowProblem:
        return self.header.problem(self.document, row, name, reason, self.sheet)

    def cell(self, row: Row, name: str) -> object:
        column = self.index.get(name)
        return "" if column is None else row.value(column)

    def text(self, row: Row, name: str) -> str:
        column = self.index.get(name)
        return "" if column is None else row.text(column)

    def items(self, row: Row) -> Iterator[ParsedItem]:
        found: list[tuple[IndicatorType, str, int | None]] = []
        problems: list[RowProblem] = []
        for name in self.indicator_fields:
            text = self.text(row, name)
            if is_blank(text):
                continue
            port = None
            with_port = _IPV4_PORT.match(text) if name in ("value", "ip") else None
            if with_port:  # '198.51.100.7:443', as C2 lists write their servers
                text, port = with_port["address"], int(with_port["port"])
            try:
                found.append((self._kind(row, name, text), text, port))
            except InvalidIndicator as exc:
                problems.append(self.problem(row, name, f"{exc}; left out"))
        if not found and not problems:
            problems.append(self.problem(row, self.indicator_fields[0], "no indicator value"))
        yield from problems
        if not found:
            return
        template = self._template(row)
        yield from template.problems
        for kind, value, port in found:
            yield _copy(template.event, kind, value, port)

    def _kind(self, row: Row, name: str, text: str) -> IndicatorType:
        column_kind = _INDICATOR_COLUMNS[name]
        type_text = self.text(row, "type") if name == "value" else ""
        if type_text:
            named = _TYPE_NAMES.get(normalise_header(type_text))
            if named is not None:
                return _indicator(named, text)
        return _indicator(column_kind, text)

    def _template(self, row: Row) -> _Context:
        event = IntelEvent(T.DOMAIN, "", "csv", line=row.number, sheet=self.sheet, raw=row.raw)
        context = _Context(event)
        for name, target in (
            ("first_seen", "time_source"),
            ("last_seen", "last_seen"),
            ("expires", "expires_at"),
        ):
            value = self.cell(row, name)
            if not is_blank(value):
                self._read(context, row, name, target, value, parse_time)
        value = self.cell(row, "confidence")
        if not is_blank(value):
            self._read(context, row, "confidence", "confidence", value, confidence)
        value = self.text(row, "tlp")
        if not is_blank(value):
            self._read(context, row, "tlp", "tlp", value, Tlp.parse)
        malware = self.text(row, "malware")
        if not is_blank(malware):
            event.malware_name = family_name(malware)
            if event.malware_name != malware.lower():
                event.extra["malware"] = malware
        tags = self.text(row, "tags")
        event.tags = tuple(tag.strip() for tag in _TAG_SEPARATORS.split(tags) if tag.strip())
        description = self.text(row, "description")
        event.description = None if is_blank(description) else description
        for name in ("comment", "type"):
            text = self.text(row, name)
            if not is_blank(text):
                event.extra[name] = text
        for column, label in self.header.others.items():
            text = row.text(column)
            if not is_blank(text):
                event.extra[label] = text
        return context

    def _read(
        self,
        context: _Context,
        row: Row,
        name: str,
        target: str,
        value: object,
        read: Callable[[Any], object],
    ) -> None:
        try:
            setattr(context.event, target, read(value))
        except ValueError as exc:
            context.problems.append(self.problem(row, name, f"{exc}; left out"))


def _copy(template: IntelEvent, kind: IndicatorType, value: str, port: int | None) -> IntelEvent:
    return IntelEvent(
        kind,
        value,
        template.feed_name,
        source_port=port,
        line=template.line,
        sheet=template.sheet,
        time_source=template.time_source,
        last_seen=template.last_seen,
        malware_name=template.malware_name,
        confidence=template.confidence,
        tlp=template.tlp,
        expires_at=template.expires_at,
        tags=template.tags,
        description=template.description,
        extra=dict(template.extra),
        raw=template.raw,
    )


def _guess(value: object) -> IndicatorType | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return guess_indicator(value).type
    except InvalidIndicator:
        return None


def _is_time(value: object) -> bool:
    if isinstance(value, datetime):
        return True
    if not isinstance(value, str) or len(value) < 8:
        return False
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def _column_kinds(sample: Sequence[Row]) -> dict[int, str]:
    """'time' or 'indicator' for each column whose sampled cells are nearly all one of them."""
    width = max((len(row.cells) for row in sample), default=0)
    kinds: dict[int, str] = {}
    for column in range(width):
        values = [row.value(column) for row in sample if not is_blank(row.value(column))]
        if not values:
            continue
        needed = _CLEAR_MAJORITY * len(values)
        if sum(map(_is_time, values)) >= needed:
            kinds[column] = "time"
        elif sum(_guess(value) is not None for value in values) >= needed:
            kinds[column] = "indicator"
    return kinds


def _headerless(
    document: FeedDocument, sheet: str | None, rows: Iterator[Row]
) -> Iterator[ParsedItem] | None:
    """Events from a table without a header, or None when no column holds indicators."""
    sample = list(islice(rows, _HEADERLESS_SAMPLE))
    kinds = _column_kinds(sample)
    if "indicator" not in kinds.values():
        return None
    return _headerless_items(document, sheet, kinds, chain(sample, rows))


def _headerless_items(
    document: FeedDocument, sheet: str | None, kinds: dict[int, str], rows: Iterator[Row]
) -> Iterator[ParsedItem]:
    times = [column for column, kind in kinds.items() if kind == "time"]
    for row in rows:
        seen = None
        for column in times[:1]:
            value = row.value(column)
            if not is_blank(value):
                try:
                    seen = parse_time(value)
                except ValueError as exc:
                    reason = f"{exc}; left out"
                    yield document.problem(reason, row.number, f"column {column + 1}", sheet)
        extra = {
            f"column {column + 1}": row.text(column)
            for column in range(len(row.cells))
            if column not in kinds and row.text(column)
        }
        for column, kind in kinds.items():
            text = row.text(column)
            if kind != "indicator" or is_blank(text):
                continue
            found = _guess(text)
            if found is None:
                reason = f"{text!r} is not an indicator (IP, domain, URL, hash, e-mail …)"
                yield document.problem(reason, row.number, f"column {column + 1}", sheet)
                continue
            yield IntelEvent(
                found,
                text,
                "csv",
                line=row.number,
                sheet=sheet,
                time_source=seen,
                extra=dict(extra),
                raw=row.raw,
            )


class GenericTableFormat:
    name = "csv"
    title = "Indicator tables (CSV, XLSX, XLS) with named columns"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        fields = header_fields(SPEC, head_rows(document, head))
        if _accepts(fields) and len(fields) >= 2:
            return 0.6
        tabular = is_workbook(head) or document.name.lower().endswith((".csv", ".tsv"))
        return 0.4 if tabular else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        tables = 0
        for sheet in read_sheets(document, comments=True):
            header, rows = find_header(document, sheet, SPEC, _accepts)
            if header is None:
                items = _headerless(document, sheet.name, rows)
                if items is None:
                    continue  # a sheet of notes or instructions
                tables += 1
                yield from items
                continue
            tables += 1
            reader = _TableReader(document, sheet.name, header)
            data_rows = 0
            for row in rows:
                data_rows += 1
                yield from reader.items(row)
            if not data_rows and tables == 1:
                raise no_data_rows(document, header, sheet.name)
        if not tables:
            raise InputError(
                [
                    document.problem(
                        "no header row (such as 'indicator', 'type', 'first seen') in the first "
                        f"{HEADER_SEARCH_ROWS} rows and no column that holds indicators"
                    )
                ]
            )


FORMAT = GenericTableFormat()
