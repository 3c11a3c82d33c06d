"""Feed formats: one module per format, each exposing a module-level `FORMAT`.

Adding a format is adding one module here (and its test with a real sample); the registry
finds it by walking this package, so nothing else has to change.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from garrison.core.errors import GarrisonError, RowProblem
from garrison.intel.event import IntelEvent

SNIFF_BYTES = 65536


@dataclass(frozen=True)
class FeedDocument:
    """A feed file on disk; `name` is what error messages call it (the original file name)."""

    path: Path
    name: str

    @classmethod
    def from_path(cls, path: Path) -> FeedDocument:
        return cls(path, path.name)

    def head(self, size: int = SNIFF_BYTES) -> bytes:
        with self.path.open("rb") as stream:
            return stream.read(size)

    def problem(
        self,
        reason: str,
        line: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
    ) -> RowProblem:
        return RowProblem(self.name, reason, sheet, line, column)


ParsedItem = IntelEvent | RowProblem


class FeedFormat(Protocol):
    """What every format module's `FORMAT` object provides."""

    name: str
    """Short identifier used on the CLI and in Source.format, e.g. 'shadowserver', 'stix2'."""
    title: str

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        """How sure (0.0-1.0) this format is that it can read the document, from its name
        and first bytes; auto-detection picks the highest score."""
        ...

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        """Events in file order, and a RowProblem for each row that cannot be read.

        Raises `InputError` only when the whole document is unreadable (wrong format,
        truncated archive, invalid JSON); a bad row is yielded as a problem instead."""
        ...


class UnknownFormatError(GarrisonError):
    """The format could not be named or guessed; the message lists the candidates."""


@cache
def registered_formats() -> dict[str, FeedFormat]:
    found: dict[str, FeedFormat] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        feed_format = getattr(module, "FORMAT", None)
        if feed_format is not None:
            found[feed_format.name] = feed_format
    return dict(sorted(found.items()))


def format_named(name: str) -> FeedFormat:
    formats = registered_formats()
    if name not in formats:
        raise UnknownFormatError(
            f"unknown feed format {name!r}; known formats: {', '.join(formats)}"
        )
    return formats[name]


CONFIDENT = 0.6
"""Auto-detection accepts a guess only at this score or above, and only when no other format
scores as high."""


def detect_format(document: FeedDocument) -> FeedFormat:
    """The format that recognises the document; a clear error when none or several do."""
    head = document.head()
    scores = sorted(
        ((fmt.sniff(document, head), fmt.name) for fmt in registered_formats().values()),
        reverse=True,
    )
    best_score, best_name = scores[0] if scores else (0.0, "")
    if best_score < CONFIDENT:
        raise UnknownFormatError(
            f"{document.name}: cannot tell which feed format this is; give one with "
            f"--format ({', '.join(registered_formats())})"
        )
    tied = [name for score, name in scores if score == best_score]
    if len(tied) > 1:
        raise UnknownFormatError(
            f"{document.name}: could be any of {', '.join(sorted(tied))}; choose with --format"
        )
    return registered_formats()[best_name]
