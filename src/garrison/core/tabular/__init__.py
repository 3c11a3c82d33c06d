"""Reading people's spreadsheets: CSV and XLSX with title rows, Vietnamese or English headers.

Shared by every importer (registry, indicator lists, national exports); each importer describes
its tables with `TableSpec` and receives located `Record`s it can validate and report on.
"""

from garrison.core.tabular.headers import ColumnSpec, TableSpec, normalise_header
from garrison.core.tabular.reader import Record, Table, read_tables

__all__ = ["ColumnSpec", "Record", "Table", "TableSpec", "normalise_header", "read_tables"]
