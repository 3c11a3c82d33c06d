"""Downloads of list pages as CSV or XLSX: one helper for every page.

A cell a person typed must never become a live formula in the spreadsheet program that opens
the download (CSV injection):

- XLSX: every cell is written with the string type, so '=1+1' stays the text '=1+1';
- CSV: a cell starting with '=', '+', '-', '@', a tab or a carriage return is prefixed with a
  single quote ("'=1+1"), which spreadsheet programs show as text; the quote is part of the
  downloaded value.

CSV is UTF-8 with a byte-order mark, so spreadsheet programs read Vietnamese correctly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session
from starlette.responses import Response

from garrison.core.clock import utc_now
from garrison.orgs.registry_export import registry_rows
from garrison.web.i18n import translations

ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REGISTRY_TITLES = {"organisations": "Organisations", "assets": "Assets"}
_NOT_IN_SHEET_TITLES = re.compile(r"[\[\]:*?/\\]")
# Control characters XML 1.0 (and so XLSX) cannot hold.
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class ExportTable:
    """A list as a table of text: `name` names the file, `title` the sheet."""

    name: str
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[str]]


def csv_text(value: str) -> str:
    """A CSV cell that spreadsheet programs show as text, never evaluate."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_bytes(table: ExportTable) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([csv_text(cell) for cell in table.header])
    writer.writerows([csv_text(cell) for cell in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_bytes(table: ExportTable) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_NOT_IN_SHEET_TITLES.sub(" ", table.title)[:31] or table.name)

    def text_cells(values: Sequence[str]) -> list[object]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_NOT_IN_XML.sub("", value))
            cell.data_type = "s"  # text, even when it starts with '='
            cells.append(cell)
        return cells

    sheet.append(text_cells(table.header))
    for row in table.rows:
        sheet.append(text_cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_download(table: ExportTable, export_format: ExportFormat) -> Response:
    """The table as a file to save, named after the list and today's date."""
    content = _csv_bytes(table) if export_format == "csv" else _xlsx_bytes(table)
    file_name = f"garrison-{table.name}-{utc_now():%Y%m%d}.{export_format}"
    return Response(
        content,
        media_type=MEDIA_TYPES[export_format],
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


def registry_download(
    session: Session,
    export_format: ExportFormat,
    *,
    table: str,
    language: str,
    keys: Sequence[Hashable],
    key_of: Callable[[list[str]], Hashable],
) -> Response:
    """Rows of a registry table in the importer's own shape (so a download can be edited and
    imported again), limited to `keys` and in their order: the rows a filtered list shows."""
    rows = registry_rows(session, table, language)
    header = next(rows)
    position = {key: index for index, key in enumerate(keys)}
    chosen = sorted(
        (row for row in rows if key_of(row) in position), key=lambda row: position[key_of(row)]
    )
    title = translations(language).gettext(REGISTRY_TITLES[table])
    return table_download(ExportTable(table, title, header, chosen), export_format)
