"""Typed errors: every failure a user can cause names where and why."""

from __future__ import annotations

from dataclasses import dataclass


class GarrisonError(Exception):
    """Base of every error Garrison raises on purpose; the CLI maps it to exit code 1."""


class ConfigurationError(GarrisonError):
    """Settings or the environment are not usable."""


class NotFoundError(GarrisonError):
    """A named object does not exist."""


@dataclass(frozen=True)
class RowProblem:
    """One problem in an input file, located precisely enough to fix it."""

    file: str
    reason: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}"


class InputError(GarrisonError):
    """An input file was rejected; nothing was written. Holds every problem found."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"input rejected, nothing was written ({len(problems)} problem(s)):\n{shown}{more}"
        )
