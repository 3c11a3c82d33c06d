"""CSV: one row per indicator, for spreadsheets and scripts.

Formula injection: a cell starting with '=', '+', '-', '@', a tab or a carriage return would
be evaluated by a spreadsheet program, so it is written with a leading single quote, which
spreadsheet programs show as text. A cell that already starts with a quote gets one too, so
that the rule reverses exactly: a reader drops one leading quote from any cell that has one
(`unprotect`) and gets the value back. A phone number '+84…' is thus written "'+84…".

Lists (malware, tags, sources) are joined with ';'; a ';' or '\\' inside an item is escaped
with a backslash (`split_list` reverses it). Times are RFC 3339 UTC. The file is UTF-8 with a
byte-order mark, so spreadsheet programs read Vietnamese descriptions correctly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    selected,
    text_output,
    utc_text,
)
from garrison.intel.types import IndicatorType

HEADER = (
    "type",
    "value",
    "first_seen",
    "last_seen",
    "tlp",
    "confidence",
    "malware",
    "tags",
    "sources",
    "classification",
    "expires_at",
    "description",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
LIST_SEPARATOR = ";"


def protect(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def unprotect(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def join_list(items: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(
        item.replace("\\", "\\\\").replace(LIST_SEPARATOR, "\\" + LIST_SEPARATOR) for item in items
    )


def split_list(cell: str) -> tuple[str, ...]:
    if not cell:
        return ()
    items: list[str] = []
    current: list[str] = []
    escaped = False
    for char in cell:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == LIST_SEPARATOR:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return tuple(items)


def _time(moment: datetime | None) -> str:
    return utc_text(moment) if moment is not None else ""


def row(indicator: ExportedIndicator) -> list[str]:
    cells = [
        indicator.type.value,
        indicator.value,
        _time(indicator.first_seen),
        _time(indicator.last_seen),
        indicator.tlp.value,
        "" if indicator.confidence is None else str(indicator.confidence),
        join_list(indicator.malware),
        join_list(indicator.tags),
        join_list(indicator.sources),
        indicator.classification_type or "",
        _time(indicator.expires_at),
        indicator.description or "",
    ]
    return [protect(cell) for cell in cells]


class CsvExport:
    name = "csv"
    title = "CSV table"
    media_type = "text/csv; charset=utf-8"
    file_suffix = ".csv"

    def accepts(self, kind: IndicatorType) -> bool:
        return True

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        summary = ExportSummary(self.name)
        with text_output(stream, encoding="utf-8-sig") as text:
            writer = csv.writer(text)
            writer.writerow(HEADER)
            for indicator in selected(indicators, self, options, summary):
                writer.writerow(row(indicator))
                summary.wrote(indicator)
        return summary


EXPORT = CsvExport()
