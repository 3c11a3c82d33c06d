"""Rows of a CSV, XLSX or XLS feed, streamed one at a time, with the header found under title rows
and cell values read the way people's spreadsheets write them.

Shared by the table-shaped formats (Shadowserver reports, the national botnet lists, generic
indicator tables). Only one row is held at a time, plus the few rows searched for a header, so a
1,000,000-row CSV parses in bounded memory; calamine keeps a workbook's cells in compact Rust
memory and hands Python one row at a time (`iter_rows`, not a list of every row).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from itertools import chain, islice
from typing import IO
from xml.etree import ElementTree

import python_calamine

from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular.encoding import (
    VIETNAMESE_CODE_PAGE,
    UndecodableText,
    detect_encoding,
)
from garrison.core.tabular.headers import TableSpec, normalise_header
from garrison.core.tabular.reader import cell_text, csv_delimiter
from garrison.intel.formats import FeedDocument
from garrison.intel.normalise import normalise
from garrison.intel.types import IndicatorType

VIETNAM_TIME = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
"""Vietnam has kept UTC+7 without daylight saving since 1975: a fixed offset is exact and needs
no time-zone database on the machine."""

HEADER_SEARCH_ROWS = 20
_ENCODING_SAMPLE = 262144
_DELIMITER_SAMPLE = 65536
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_BROKEN_WORKBOOK = (python_calamine.CalamineError, zipfile.BadZipFile, OSError, ValueError)

Cell = object
"""A cell as read: text for CSV; text, number, date or time for a workbook (calamine's types)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One non-blank row; `number` is the line (CSV) or row (workbook) it starts on."""

    number: int
    cells: Sequence[Cell]
    raw: str

    def value(self, index: int) -> Cell:
        return self.cells[index] if index < len(self.cells) else ""

    def text(self, index: int) -> str:
        return as_text(self.value(index))


def as_text(value: Cell) -> str:
    """A cell as the text a person sees, without surrounding spaces."""
    return value.strip() if isinstance(value, str) else cell_text(value)


@dataclass(frozen=True)
class Sheet:
    name: str | None
    rows: Iterator[Row]


def is_workbook(head: bytes) -> bool:
    return head.startswith((_ZIP_MAGIC, _OLE_MAGIC))


def read_sheets(document: FeedDocument, *, comments: bool = False) -> Iterator[Sheet]:
    """Every sheet of the document (a CSV is one sheet without a name), rows streamed.

    `comments` skips CSV lines whose first cell starts with '#', as hand-kept lists have."""
    try:
        head = document.head(len(_OLE_MAGIC))
    except OSError as exc:
        raise InputError([document.problem(f"cannot read the file: {exc.strerror}")]) from None
    if not head:
        raise InputError([document.problem("the file is empty")])
    if is_workbook(head):
        yield from _workbook_sheets(document)
    else:
        yield Sheet(None, _csv_rows(document, comments))


# --- CSV ------------------------------------------------------------------------------------


def _utf8_prefix(sample: bytes) -> bool:
    """Whether the sample is UTF-8, allowing a character cut in two at its end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def text_encoding(sample: bytes) -> str:
    """The encoding of a text file judged from its first bytes (a BOM, UTF-8, or a guess)."""
    wide = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample
    if not wide and _utf8_prefix(sample):  # NULs: UTF-16 without a BOM is valid UTF-8 too
        return "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    return detect_encoding(sample)


class _LineTap:
    """Hands lines to the csv module and keeps them, so each row's raw text and first line are
    known even when a quoted cell spans several lines."""

    def __init__(self, lines: IO[str]) -> None:
        self._lines = lines
        self._taken: list[str] = []

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._taken.append(line)
        return line

    def take(self) -> tuple[str, int]:
        """The text of the lines read since the last call, and how many there were."""
        text, count = "".join(self._taken), len(self._taken)
        self._taken.clear()
        return text.rstrip("\r\n"), count


def _csv_rows(document: FeedDocument, comments: bool) -> Iterator[Row]:
    try:
        encoding = text_encoding(document.head(_ENCODING_SAMPLE))
    except UndecodableText as exc:
        raise InputError([document.problem(str(exc))]) from None
    composed = encoding.lower() == VIETNAMESE_CODE_PAGE  # cp1258 spells tones as combining marks
    with document.path.open("rb") as binary:
        stream = io.TextIOWrapper(binary, encoding=encoding, newline="")
        line = 1
        try:
            delimiter = csv_delimiter(stream.read(_DELIMITER_SAMPLE))
            stream.seek(0)
            tap = _LineTap(stream)
            for cells in csv.reader(tap, delimiter=delimiter):
                raw, count = tap.take()
                number, line = line, line + count
                if not "".join(cells).strip() or (comments and cells[0].lstrip()[:1] == "#"):
                    continue
                if composed:
                    cells = [unicodedata.normalize("NFC", cell) for cell in cells]
                if "\x00" in raw:
                    raise InputError(
                        [document.problem("the line holds NUL characters: not CSV text", number)]
                    )
                yield Row(number, cells, raw)
        except UnicodeDecodeError as exc:
            reason = f"not valid {encoding} text ({exc.reason}); save the file as UTF-8"
            raise InputError([document.problem(reason, line)]) from None
        except csv.Error as exc:
            raise InputError([document.problem(f"malformed CSV: {exc}", line)]) from None


# --- workbooks ------------------------------------------------------------------------------


def _unreadable(document: FeedDocument, exc: Exception, sheet: str | None = None) -> InputError:
    reason = f"not a readable XLSX/XLS workbook ({exc})"
    return InputError([document.problem(reason, sheet=sheet)])


def _workbook_sheets(document: FeedDocument) -> Iterator[Sheet]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(document.path))
    except _BROKEN_WORKBOOK as exc:
        raise _unreadable(document, exc) from None
    try:
        for metadata in workbook.sheets_metadata:
            if metadata.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart and macro sheets hold no rows
            try:
                sheet = workbook.get_sheet_by_name(metadata.name)
            except _BROKEN_WORKBOOK as exc:
                raise _unreadable(document, exc, metadata.name) from None
            yield Sheet(metadata.name, _sheet_rows(sheet))
    finally:
        workbook.close()


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[Row]:
    # iter_rows starts at row 1 and at the first column that holds anything.
    for number, values in enumerate(sheet.iter_rows(), 1):
        if values.count("") == len(values):
            continue  # fast: a stray cell at row 1,048,576 makes a million empty rows
        raw = "\t".join([value if isinstance(value, str) else cell_text(value) for value in values])
        if raw.strip():
            yield Row(number, values, raw.rstrip())


# --- header location ------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Where a table's header is and which column holds which field."""

    row: int
    columns: dict[int, str]
    labels: dict[str, str]
    """Field → the header as written, for error messages."""
    others: dict[int, str]
    """Columns that name no known field: their header, so that their values can go to extra."""

    def problem(
        self, document: FeedDocument, row: Row, field: str | None, reason: str, sheet: str | None
    ) -> RowProblem:
        column = self.labels.get(field, field) if field else None
        return document.problem(reason, row.number, column, sheet)


def _lookup(spec: TableSpec) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in spec.columns:
        for alias in column.normalised_aliases:
            found.setdefault(alias, column.field)
    return found


def _header_texts(top: Row, below: Row | None) -> list[list[str]]:
    """Per column, the header texts to try: for a two-row header whose first row is merged
    ('Thời điểm ghi nhận' over 'Đầu' and 'Cuối'), the parent with each sub-header, the
    sub-header alone, then the first row alone; for a one-row header, its cell."""
    width = max(len(top.cells), len(below.cells) if below else 0)
    candidates: list[list[str]] = []
    parent = ""
    for index in range(width):
        upper = top.text(index)
        parent = upper or parent
        lower = below.text(index) if below else ""
        if lower:
            candidates.append([f"{parent} {lower}", lower, upper])
        else:
            candidates.append([upper])
    return candidates


def _match(
    lookup: dict[str, str], texts: list[list[str]]
) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Column → field, column → the header text that matched, column → unmatched header."""
    columns: dict[int, str] = {}
    labels: dict[int, str] = {}
    others: dict[int, str] = {}
    for index, candidates in enumerate(texts):
        for text in candidates:
            field = lookup.get(normalise_header(text)) if text else None
            if field:
                columns[index], labels[index] = field, text
                break
        else:
            if candidates[-1]:
                others[index] = candidates[-1]
    return columns, labels, others


def _looks_like_data(row: Row) -> bool:
    """A row holding an IP address or a date is data, not a second header row."""
    for value in row.cells:
        if isinstance(value, datetime | date | float | int):
            return True
        if isinstance(value, str) and (_IP_LIKE.match(value.strip()) or _DMY.match(value.strip())):
            return True
    return False


_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


def _numbers_the_columns(row: Row) -> bool:
    """The '(1) (2) (3) …' row official tables put under their header."""
    texts = [as_text(value) for value in row.cells]
    numbers = [text for text in texts if text]
    return len(numbers) >= 3 and all(_COLUMN_NUMBER.match(text) for text in numbers)


_IP_LIKE = re.compile(r"^\[?[0-9a-fA-F:.]*[.:][0-9a-fA-F:.]*\]?(?::\d+)?(?:/\d+)?$")


def find_header(
    document: FeedDocument,
    sheet: Sheet,
    spec: TableSpec,
    accepts: Callable[[set[str]], bool],
) -> tuple[Header | None, Iterator[Row]]:
    """The header among the first rows and the data rows under it; no header → (None, all rows).

    Two columns meaning the same field reject the document: which one to trust is the
    sender's call, not ours."""
    lookup = _lookup(spec)
    window = list(islice(sheet.rows, HEADER_SEARCH_ROWS + 1))
    rest = sheet.rows
    for position, top in enumerate(window[:HEADER_SEARCH_ROWS]):
        columns, labels, others = _match(lookup, _header_texts(top, None))
        if not accepts(set(columns.values())):
            continue
        header_rows = 1
        below = window[position + 1] if position + 1 < len(window) else None
        if below is not None and not _looks_like_data(below):
            two = _match(lookup, _header_texts(top, below))
            if len(two[0]) > len(columns) and accepts(set(two[0].values())):
                (columns, labels, others), header_rows = two, 2
        last = window[position + header_rows - 1]
        _reject_duplicates(document, sheet.name, last.number, columns, labels)
        after = position + header_rows
        if after < len(window) and _numbers_the_columns(window[after]):
            after += 1
        header = Header(
            last.number,
            columns,
            {field: labels[index] for index, field in columns.items()},
            others,
        )
        return header, chain(window[after:], rest)
    return None, chain(window, rest)


def _reject_duplicates(
    document: FeedDocument,
    sheet: str | None,
    row: int,
    columns: dict[int, str],
    labels: dict[int, str],
) -> None:
    seen: dict[str, int] = {}
    problems = []
    for index, field in sorted(columns.items()):
        if field in seen:
            first = labels[seen[field]]
            reason = (
                f"columns {first!r} and {labels[index]!r} both mean {field!r}; keep one of them"
            )
            problems.append(document.problem(reason, row, labels[index], sheet))
        else:
            seen[field] = index
    if problems:
        raise InputError(problems)


def no_header(document: FeedDocument, spec: TableSpec, expected: Iterable[str]) -> InputError:
    return InputError(
        [
            document.problem(
                f"no {spec.name} header row in the first {HEADER_SEARCH_ROWS} rows; "
                f"expected columns such as {', '.join(repr(name) for name in expected)}"
            )
        ]
    )


def no_data_rows(document: FeedDocument, header: Header, sheet: str | None) -> InputError:
    reason = f"no data rows under the header (row {header.row})"
    return InputError([document.problem(reason, sheet=sheet)])


# --- cell values ----------------------------------------------------------------------------

_BLANKS = frozenset(
    {
        "",
        "-",
        "--",
        "n/a",
        "na",
        "null",
        "none",
        "unknown",
        "không rõ",
        "không xác định",
        "chưa xác định",
        "khong ro",
        "khong xac dinh",
        "chua xac dinh",
    }
)


def is_blank(value: Cell) -> bool:
    """Empty, or one of the ways people write 'nothing here' ('-', 'N/A', 'không rõ')."""
    if value == "" or value is None:
        return True
    return isinstance(value, str) and len(value) < 20 and value.strip().casefold() in _BLANKS


_DMY = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
    r"(?:[ T,]+(\d{1,2})[:h](\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_SERIAL_RANGE = (1.0, 2958466.0)  # 1900-01-01 to 9999-12-31


def _from_serial(serial: float) -> datetime:
    if not _SERIAL_RANGE[0] <= serial < _SERIAL_RANGE[1]:
        raise ValueError(f"{serial!r} is not an Excel date")
    return _EXCEL_EPOCH + timedelta(days=serial)


def _from_text(text: str) -> datetime:
    if len(text) == 19 and text[2] == text[5] == "/" and text[13] == text[16] == ":":
        try:  # 'dd/mm/yyyy HH:MM:SS', the lists' usual spelling: slicing beats the pattern
            return datetime(
                int(text[6:10]),
                int(text[3:5]),
                int(text[0:2]),
                int(text[11:13]),
                int(text[14:16]),
                int(text[17:19]),
            )
        except ValueError:
            pass  # the pattern below says what is wrong
    if text[:4].isdigit() and len(text) >= 8:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _DMY.match(text)
    if match:
        day, month, year, hour, minute, second, fraction = match.groups()
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    if _SERIAL.match(text):
        return _from_serial(float(text))
    raise ValueError("not a date")


def parse_time(value: Cell, zone: tzinfo = VIETNAM_TIME) -> datetime:
    """An aware UTC time from an Excel date, 'dd/mm/yyyy HH:MM[:SS]', 'dd/mm/yyyy' or ISO 8601;
    a time without a zone is in `zone` (the sender's local time)."""
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, int | float) and not isinstance(value, bool):
            moment = _from_serial(float(value))
        elif isinstance(value, str):
            moment = _from_text(value.strip())
        else:
            raise ValueError("not a date")
    except (ValueError, OverflowError):
        raise ValueError(
            f"{cell_text(value)!r} is not a date and time "
            "(dd/mm/yyyy hh:mm:ss, dd/mm/yyyy or ISO 8601)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{cell_text(value)!r} is out of range") from None


_GROUPED = re.compile(r"^\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*$")


def whole_number(value: Cell, what: str = "a whole number") -> int:
    """An integer from 12, 12.0, '12', '1,234' or '1.234' (thousands grouped either way)."""
    if isinstance(value, bool):
        raise ValueError(f"{cell_text(value)!r} is not {what}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit():
        return int(text)
    if _GROUPED.match(text):
        text = re.sub(r"[.,\s]", "", text)
    if text.isascii() and text.isdigit():
        return int(text)
    raise ValueError(f"{cell_text(value)!r} is not {what}")


def port_number(value: Cell) -> int:
    port = whole_number(value, "a port number (0-65535)")
    if not 0 <= port <= 65535:
        raise ValueError(f"{cell_text(value)!r} is not a port number (0-65535)")
    return port


_ASN = re.compile(r"^(?:AS)?\s*(\d{1,10})$", re.IGNORECASE)


@lru_cache(maxsize=4096)
def as_number(value: Cell) -> int:
    """An AS number from 45899, '45899' or 'AS45899'."""
    text = cell_text(value)
    match = _ASN.match(text)
    number = int(match.group(1)) if match else -1
    if not 0 < number < 2**32:
        raise ValueError(f"{text!r} is not an AS number (AS1 to AS4294967295)")
    return number


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PLAIN_IPV4 = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")


def address_type(text: str) -> IndicatorType:
    """ipv4, ipv6, cidr4 or cidr6 for an address or network; InvalidIndicator otherwise."""
    if _PLAIN_IPV4.match(text):  # the common case, a million times over in a big list
        return IndicatorType.IPV4
    kind = IndicatorType.IPV6 if ":" in text else IndicatorType.IPV4
    return normalise(kind, text).type


def split_host_port(text: str) -> tuple[str, int | None]:
    """'198.51.100.7:443', '[2001:db8::1]:443', 'c2.example:8080', '443' or a bare host."""
    value = text.strip()
    if value.isdigit():
        return "", port_number(value)
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, port_number(rest[1:]) if rest.startswith(":") else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port_number(port)
    return value, None


_FAMILY_PARTS = re.compile(r"[/,;|()\[\]]|\s-\s|\.")
_NOT_FAMILY = frozenset(
    {
        "win32",
        "win64",
        "w32",
        "w64",
        "linux",
        "elf",
        "android",
        "msil",
        "trojan",
        "worm",
        "backdoor",
        "bot",
        "botnet",
        "malware",
        "virus",
        "variant",
        "biến thể",
    }
)


@lru_cache(maxsize=4096)
def family_name(text: str) -> str | None:
    """The family a list names, lower-case: 'Conficker/Downadup' → 'conficker',
    'Win32.Sality.AT' → 'sality', 'Mirai (biến thể)' → 'mirai'."""
    for part in _FAMILY_PARTS.split(text):
        name = " ".join(part.split()).lower()
        if name and name not in _NOT_FAMILY and not name.isdigit():
            return name
    return None


# --- sniffing -------------------------------------------------------------------------------

_SNIFF_BYTES = 262144
_SNIFF_STRINGS = 400


def head_rows(document: FeedDocument, head: bytes) -> list[list[str]]:
    """The texts of the first rows, read cheaply enough to sniff a 1,000,000-row file: the head
    of a CSV; the first XLSX strings (a bag in one row: workbooks keep text apart from cells);
    the first XLS rows. Nothing when the file cannot be read that way."""
    try:
        if head.startswith(_ZIP_MAGIC):
            return [_workbook_strings(document)]
        if head.startswith(_OLE_MAGIC):
            return _xls_head(document)
        return _csv_head(head)
    except (UndecodableText, csv.Error, KeyError, *_BROKEN_WORKBOOK):
        return []


def _csv_head(head: bytes) -> list[list[str]]:
    text = unicodedata.normalize("NFC", head.decode(text_encoding(head), errors="ignore"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text))
    rows = []
    try:
        for cells in islice(reader, HEADER_SEARCH_ROWS):
            rows.append([cell.strip() for cell in cells])
    except csv.Error:
        pass  # the head may end inside a quoted cell
    return rows


def _workbook_strings(document: FeedDocument) -> list[str]:
    texts: list[str] = []
    with zipfile.ZipFile(document.path) as archive:
        names = set(archive.namelist())
        for part, tag in (("xl/sharedStrings.xml", "si"), ("xl/worksheets/sheet1.xml", "is")):
            if part in names:
                with archive.open(part) as stream:
                    texts.extend(
                        islice(_element_texts(stream.read(_SNIFF_BYTES), tag), _SNIFF_STRINGS)
                    )
    return texts


def _element_texts(xml: bytes, tag: str) -> Iterator[str]:
    try:
        for _event, element in ElementTree.iterparse(io.BytesIO(xml)):
            if element.tag.rpartition("}")[2] == tag:
                yield unicodedata.normalize("NFC", "".join(element.itertext()).strip())
                element.clear()
    except ElementTree.ParseError:
        return  # the part was cut at _SNIFF_BYTES


def _xls_head(document: FeedDocument) -> list[list[str]]:
    workbook = python_calamine.CalamineWorkbook.from_path(str(document.path))
    try:
        if not workbook.sheet_names:
            return []
        sheet = workbook.get_sheet_by_index(0)
        return [
            [cell_text(value) for value in row] for row in sheet.to_python(nrows=HEADER_SEARCH_ROWS)
        ]
    finally:
        workbook.close()


def header_fields(spec: TableSpec, rows: Iterable[Sequence[str]]) -> set[str]:
    """The most fields any one of the rows names (for sniffing)."""
    lookup = _lookup(spec)
    best: set[str] = set()
    for cells in rows:
        found = {lookup[key] for key in map(normalise_header, cells) if key in lookup}
        if len(found) > len(best):
            best = found
    return best
