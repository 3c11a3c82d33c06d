"""Header mapping: 'Tên đơn vị', 'Ten don vi' and 'organisation' all name the same field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_diacritics(text: str) -> str:
    """Vietnamese without its marks, as people type it on a keyboard without a Telex layout."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_header(text: str) -> str:
    """Case, marks, punctuation and spacing do not matter: '(*) Dải IP:' → 'dai ip'."""
    plain = strip_diacritics(unicodedata.normalize("NFC", text)).casefold()
    return _NOT_ALNUM.sub(" ", plain).strip()


@dataclass(frozen=True)
class ColumnSpec:
    """One field of a table and every header people use for it."""

    field: str
    aliases: tuple[str, ...]
    required: bool = False

    def matches(self, normalised: str) -> bool:
        return normalised in self.normalised_aliases

    @property
    def normalised_aliases(self) -> frozenset[str]:
        return frozenset(normalise_header(alias) for alias in (self.field, *self.aliases))


@dataclass(frozen=True)
class HeaderMatch:
    """Which column holds which field, found in one candidate header row."""

    columns: dict[int, str]
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)

    def fields(self) -> set[str]:
        return set(self.columns.values())


@dataclass(frozen=True)
class TableSpec:
    """A kind of table an importer accepts: its fields and the sheet names it may go by."""

    name: str
    columns: tuple[ColumnSpec, ...]
    sheet_names: tuple[str, ...] = ()

    @property
    def required_fields(self) -> set[str]:
        return {column.field for column in self.columns if column.required}

    def match_header(self, cells: Sequence[str]) -> HeaderMatch:
        lookup: dict[str, str] = {}
        for column in self.columns:
            for alias in column.normalised_aliases:
                lookup.setdefault(alias, column.field)
        positions: dict[str, list[int]] = {}
        for index, cell in enumerate(cells):
            found = lookup.get(normalise_header(cell)) if cell else None
            if found:
                positions.setdefault(found, []).append(index)
        columns = {indexes[0]: name for name, indexes in positions.items()}
        duplicates = [(name, idx) for name, idx in positions.items() if len(idx) > 1]
        return HeaderMatch(columns, duplicates)

    def accepts(self, match: HeaderMatch) -> bool:
        return bool(self.required_fields) and self.required_fields <= match.fields()

    def names_sheet(self, sheet_name: str) -> bool:
        wanted = {normalise_header(name) for name in (self.name, *self.sheet_names)}
        return normalise_header(sheet_name) in wanted
