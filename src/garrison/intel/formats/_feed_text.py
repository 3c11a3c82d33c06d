"""Feed files as numbered lines of text, read as a stream whatever their encoding.

Blocklists run to millions of lines, so nothing here holds a whole file: the encoding is
guessed from the first bytes and the rest is decoded as it is read. A line that does not
decode is a problem on that line, not the end of the import.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import NamedTuple, TextIO

from garrison.core.errors import InputError, RowProblem
from garrison.core.tabular.encoding import UndecodableText, detect_encoding
from garrison.intel.formats import SNIFF_BYTES, FeedDocument
from garrison.intel.formats._feed_fields import FieldError

COMMENT_PREFIXES = ("#", ";", "//")
_UNDECODED = re.compile("[\udc80-\udcff]")
_WIDE_ENCODINGS = ("utf-16", "utf-32")


class Line(NamedTuple):
    number: int
    text: str


def _sample(head: bytes) -> bytes:
    """The head up to its last full line when it was cut, so no character is split."""
    if len(head) < SNIFF_BYTES:
        return head
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut > 0 else head


def _encoding(document: FeedDocument, head: bytes) -> str:
    try:
        encoding = detect_encoding(_sample(head))
    except UndecodableText as exc:
        raise InputError([document.problem(str(exc))]) from None
    if b"\x00" in head and not encoding.startswith(_WIDE_ENCODINGS):
        raise InputError([document.problem("the file holds NUL bytes: it is binary, not text")])
    return encoding


@contextmanager
def open_text(document: FeedDocument) -> Iterator[TextIO]:
    """The document as text; bytes the encoding cannot read come through as lone
    surrogates so that the caller can name the line they are on."""
    try:
        head = document.head()
        encoding = _encoding(document, head)
        raw = document.path.open("rb")
    except OSError as exc:
        raise InputError([document.problem(f"cannot read the file: {exc.strerror}")]) from None
    with io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline=None) as text:
        yield text


def read_lines(document: FeedDocument) -> Iterator[Line | RowProblem]:
    """Every line (newline removed, NFC), or a problem for a line that is not valid text."""
    with open_text(document) as stream:
        number = 0
        try:
            for number, text in enumerate(stream, 1):
                line = text.rstrip("\n")
                if _UNDECODED.search(line) or "\x00" in line:
                    reason = f"the line is not valid {stream.encoding} text"
                    yield document.problem(reason, number)
                    continue
                yield Line(number, unicodedata.normalize("NFC", line))
        except UnicodeDecodeError as exc:
            reason = f"the text stops being valid {stream.encoding}: {exc.reason}"
            raise InputError([document.problem(reason, number + 1)]) from None
        except OSError as exc:
            reason = f"cannot read the file: {exc.strerror}"
            raise InputError([document.problem(reason, number + 1)]) from None


def data_rows(document: FeedDocument) -> Iterator[Line | RowProblem]:
    """The lines that hold data: blank lines and comments left out."""
    for item in read_lines(document):
        if isinstance(item, RowProblem) or (item.text.strip() and not is_comment(item.text)):
            yield item


@lru_cache(maxsize=4)
def head_lines(head: bytes) -> tuple[str, ...]:
    """The first lines, for sniffing: decoded leniently, a cut last line left out. Cached:
    every format sniffs the same head, and guessing a legacy encoding is not free."""
    sample = _sample(head)
    try:
        encoding = detect_encoding(sample)
    except UndecodableText:
        return ()
    text = sample.decode(encoding, errors="replace")
    if "\x00" in text:
        return ()
    lines = text.splitlines()
    if len(head) >= SNIFF_BYTES and sample is head and lines:
        lines.pop()
    return tuple(lines)


def is_comment(text: str) -> bool:
    return text.lstrip().startswith(COMMENT_PREFIXES)


def comment_text(lines: Iterable[str]) -> str:
    """The comment lines of a head, joined: where feeds name themselves."""
    return "\n".join(line for line in lines if is_comment(line))


def data_lines(lines: Iterable[str]) -> list[str]:
    return [line for line in lines if line.strip() and not is_comment(line)]


def split_csv(text: str, delimiter: str = ",") -> list[str]:
    """One CSV line's fields; abuse.ch writes '", "' between quoted fields."""
    try:
        rows = list(csv.reader([text], delimiter=delimiter, skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise FieldError(None, f"not a valid CSV line: {exc}") from None
    return [field.strip() for field in rows[0]] if rows else []


def header_key(text: str) -> str:
    return text.strip().strip('"').strip().lower().replace(" ", "_")


def header_names(lines: Sequence[str], limit: int = 20) -> set[str]:
    """Every comma-separated word of the first lines as a header key, for sniffing a
    column header whether or not it is commented out."""
    return {header_key(field.lstrip("#;/ ")) for line in lines[:limit] for field in line.split(",")}


class CsvRecord(NamedTuple):
    line: Line
    fields: dict[str, str]

    @property
    def number(self) -> int:
        return self.line.number


class CommentedCsv:
    """abuse.ch-style CSV: a '#' comment block, the column header often inside it.

    `aliases` maps every header spelling the feed has used to one field name; the header is
    the first line, commented or not, holding `marker` once mapped. Rows before any header
    are read with `default` columns; a row of one field is the `single` column (the feeds'
    plain-text editions list bare values under the same comment block). With `growing`, a
    row may have more fields than the header, for feeds that announce new columns."""

    def __init__(
        self,
        aliases: Mapping[str, str],
        marker: str,
        default: Sequence[str],
        single: str | None = None,
        growing: bool = False,
    ) -> None:
        self.aliases = aliases
        self.marker = marker
        self.default = tuple(default)
        self.single = single
        self.growing = growing

    def _header(self, text: str) -> tuple[str, ...] | None:
        lowered = text.lower()
        if self.marker not in lowered and not any(alias in lowered for alias in self.aliases):
            return None
        try:
            names = [header_key(field) for field in split_csv(text)]
        except FieldError:
            return None
        mapped = tuple(self.aliases.get(name, name) for name in names)
        return mapped if self.marker in mapped else None

    def records(self, document: FeedDocument) -> Iterator[CsvRecord | RowProblem]:
        columns = self.default
        found_header = False
        for item in read_lines(document):
            if isinstance(item, RowProblem):
                yield item
                continue
            text = item.text.strip()
            if not text:
                continue
            commented = is_comment(text)
            if commented or not found_header:
                header = self._header(text.lstrip("#;/ ") if commented else text)
                if header is not None:
                    columns, found_header = header, True
                    continue
            if commented:
                continue
            try:
                fields = split_csv(text)
            except FieldError as exc:
                yield document.problem(exc.reason, item.number)
                continue
            if len(fields) == 1 and self.single and len(columns) > 1:
                yield CsvRecord(item, {self.single: fields[0]})
            elif len(fields) < len(columns) or (len(fields) > len(columns) and not self.growing):
                reason = (
                    f"expected {len(columns)} fields ({', '.join(columns)}), found {len(fields)}"
                )
                yield document.problem(reason, item.number)
            else:
                yield CsvRecord(item, dict(zip(columns, fields, strict=False)))
