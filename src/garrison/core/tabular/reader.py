"""CSV and XLSX files as located records: every value knows its file, sheet, row and column."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path

from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular.encoding import UndecodableText, decode_text
from garrison.core.tabular.headers import HeaderMatch, TableSpec
from garrison.core.tabular.xlsx import BROKEN_WORKBOOK, WorkbookSheet, read_workbook

HEADER_SEARCH_ROWS = 15
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_DELIMITERS = ",;\t|"
_ALLOWED_CONTROLS = frozenset("\t\n\r")


@dataclass(frozen=True)
class Record:
    """One data row: field → text, with the header each field came from for error messages."""

    file: str
    sheet: str | None
    row: int
    values: dict[str, str]
    headers: dict[str, str]

    def problem(self, field_name: str | None, reason: str) -> RowProblem:
        column = self.headers.get(field_name, field_name) if field_name else None
        return RowProblem(self.file, reason, self.sheet, self.row, column)

    def get(self, field_name: str) -> str:
        return self.values.get(field_name, "")


@dataclass
class Table:
    spec: TableSpec
    sheet: str | None
    header_row: int
    records: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class _RawRow:
    """One row as text cells; `formulas` holds the indexes of cells that are live formulas."""

    number: int
    cells: list[str]
    formulas: frozenset[int] = frozenset()


@dataclass
class _RawSheet:
    name: str | None
    rows: Iterable[_RawRow]


def cell_text(value: object) -> str:
    """A cell as the text a person sees: whole numbers without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _row_widths(sample: str, delimiter: str) -> Counter[int]:
    """How many of the sample's first rows split into how many cells (when more than one)."""
    widths: Counter[int] = Counter()
    try:
        for cells in islice(csv.reader(io.StringIO(sample), delimiter=delimiter), 100):
            if len(cells) > 1:
                widths[len(cells)] += 1
    except csv.Error:
        pass  # the sample may end inside a quoted cell: the rows before it still count
    return widths


def csv_delimiter(sample: str) -> str:
    """The separator that splits most of the sample's rows into the same number of cells.

    csv.Sniffer gives up on quoted cells holding another candidate separator, and guesses
    quoting rules from the sample; every spreadsheet program quotes alike, so only the
    separator is guessed here.
    """
    best, best_score = ",", (0, 0)
    for delimiter in CSV_DELIMITERS:
        widths = _row_widths(sample, delimiter)
        if widths:
            width, rows = widths.most_common(1)[0]
            if (rows, width) > best_score:
                best, best_score = delimiter, (rows, width)
    return best


def _csv_sheet(path: Path, data: bytes) -> _RawSheet:
    try:
        text, _encoding = decode_text(data)
    except UndecodableText as exc:
        raise InputError([RowProblem(path.name, str(exc))]) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_delimiter(text[:65536]))

    def rows() -> Iterator[_RawRow]:
        start = 1  # a quoted cell may span lines: a row is numbered by the line it starts on
        try:
            for cells in reader:
                yield _RawRow(start, [cell.strip() for cell in cells])
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputError([RowProblem(path.name, f"malformed CSV: {exc}", row=start)]) from None

    return _RawSheet(None, rows())


def _unreadable_workbook(path: Path, exc: Exception, sheet: str | None = None) -> InputError:
    return InputError([RowProblem(path.name, f"not a readable XLSX workbook ({exc})", sheet)])


def _xlsx_sheets(path: Path) -> Iterator[_RawSheet]:
    try:
        sheets = list(read_workbook(path))
    except BROKEN_WORKBOOK as exc:
        raise _unreadable_workbook(path, exc) from None
    for sheet in sheets:
        yield _RawSheet(sheet.name, _workbook_rows(sheet))


def _workbook_rows(sheet: WorkbookSheet) -> Iterator[_RawRow]:
    formulas: dict[int, set[int]] = {}
    for row, column in sheet.formulas:
        formulas.setdefault(row, set()).add(column)
    for number, values in enumerate(sheet.rows, 1):
        cells = [cell_text(value) for value in values]
        yield _RawRow(number, cells, frozenset(formulas.get(number, ())))


def _find_header(
    sheet: _RawSheet, specs: Sequence[TableSpec], rows: Iterator[_RawRow]
) -> tuple[TableSpec, HeaderMatch, int, list[str]] | None:
    """The first top row holding every required column of some table kind.

    When several kinds fit, the sheet's name decides, then the kind that explains most columns.
    """
    for row in rows:
        number, cells = row.number, row.cells
        if number > HEADER_SEARCH_ROWS:
            break
        fits = [(spec, spec.match_header(cells)) for spec in specs]
        fits = [(spec, match) for spec, match in fits if spec.accepts(match)]
        if fits:
            spec, match = max(
                fits,
                key=lambda fit: (
                    bool(sheet.name and fit[0].names_sheet(sheet.name)),
                    len(fit[1].columns),
                ),
            )
            return spec, match, number, cells
    return None


def _unreadable(value: str, is_formula: bool) -> str | None:
    """Why a cell's value cannot be taken as the text it shows, if it cannot."""
    if is_formula:
        return "the cell holds a formula; paste values instead"
    for char in value:
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS:
            return f"the cell holds the control character U+{ord(char):04X}; remove it"
    return None


def _records(
    path: Path,
    sheet: _RawSheet,
    match: HeaderMatch,
    header: list[str],
    rows: Iterator[_RawRow],
    problems: list[RowProblem],
) -> Iterator[Record]:
    headers = {name: header[index] for index, name in match.columns.items()}
    for row in rows:
        cells = row.cells
        if not any(cells):
            continue
        values: dict[str, str] = {}
        for index, name in match.columns.items():
            value = cells[index] if index < len(cells) else ""
            reason = _unreadable(value, index in row.formulas)
            if reason:
                problems.append(
                    RowProblem(path.name, reason, sheet.name, row.number, headers[name])
                )
                value = ""
            values[name] = value
        yield Record(path.name, sheet.name, row.number, values, headers)


def _expected_headers(specs: Sequence[TableSpec]) -> str:
    return "; ".join(
        f"{spec.name}: "
        + ", ".join(
            repr(c.aliases[0] if c.aliases else c.field) for c in spec.columns if c.required
        )
        for spec in specs
    )


def read_tables(path: Path, specs: Sequence[TableSpec], *, max_bytes: int) -> list[Table]:
    """Every recognised table in a CSV or XLSX file, or InputError naming all that is wrong."""
    if not path.is_file():
        raise InputError([RowProblem(str(path), "no such file")])
    size = path.stat().st_size
    if size == 0:
        raise InputError([RowProblem(path.name, "the file is empty")])
    if size > max_bytes:
        raise InputError(
            [
                RowProblem(
                    path.name,
                    f"the file is {size:,} bytes, over the import "
                    f"limit of {max_bytes:,} (GARRISON_MAX_IMPORT_BYTES)",
                )
            ]
        )
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        sheets: Iterable[_RawSheet] = [_csv_sheet(path, path.read_bytes())]
    elif suffix in XLSX_SUFFIXES:
        sheets = _xlsx_sheets(path)
    else:
        raise InputError(
            [RowProblem(path.name, f"unsupported file type {suffix!r}: use .csv or .xlsx")]
        )
    problems: list[RowProblem] = []
    tables: list[Table] = []
    for sheet in sheets:
        rows = iter(sheet.rows)
        found = _find_header(sheet, specs, rows)
        if found is None:
            continue
        spec, match, header_row, header = found
        for name, indexes in match.duplicates:
            columns = ", ".join(repr(header[i]) for i in indexes)
            problems.extend(
                RowProblem(
                    path.name,
                    f"columns {columns} all mean {name!r}; keep one",
                    sheet.name,
                    header_row,
                    header[index],
                )
                for index in indexes[1:]
            )
        table = Table(spec, sheet.name, header_row)
        table.records.extend(_records(path, sheet, match, header, rows, problems))
        tables.append(table)
    if not tables:
        problems.append(
            RowProblem(
                path.name,
                "no header row found in the first "
                f"{HEADER_SEARCH_ROWS} rows; expected columns such as " + _expected_headers(specs),
            )
        )
    if problems:
        raise InputError(problems)
    return tables
