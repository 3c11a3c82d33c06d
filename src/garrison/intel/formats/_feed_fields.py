"""Reading one field of a blocklist row: times, ports, AS numbers, indicator types.

Each reader raises `FieldError` naming the column, so that a format builds its event in one
straight block and `guarded` turns any bad field into the row's problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ParamSpec, Protocol, TypeVar

from garrison.core.errors import RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument
from garrison.intel.normalise import InvalidIndicator, guess_indicator
from garrison.intel.types import IndicatorType

P = ParamSpec("P")
MISSING = frozenset({"", "-", "?", "none", "null", "n/a"})
"""How the feeds write 'no value'. Not 'NA': it is Namibia's country code; the feeds that
write 'NA' for unknown (DataPlane) say so where they read it."""


class FieldError(ValueError):
    """One field of a row that cannot be read; `column` is None for single-value lines."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def guarded(
    document: FeedDocument,
    line: int,
    build: Callable[P, Iterable[IntelEvent]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> Iterator[IntelEvent | RowProblem]:
    """The row's events, or one problem for the row when a field cannot be read."""
    try:
        events = list(build(*args, **kwargs))
    except FieldError as exc:
        yield document.problem(exc.reason, line, exc.column)
        return
    yield from events


class Numbered(Protocol):
    @property
    def number(self) -> int: ...


RowT = TypeVar("RowT", bound=Numbered)


def each_row(
    document: FeedDocument,
    rows: Iterable[RowT | RowProblem],
    build: Callable[[RowT], Iterable[IntelEvent]],
) -> Iterator[IntelEvent | RowProblem]:
    """Every row's events, the reader's own problems passed through."""
    for row in rows:
        if isinstance(row, RowProblem):
            yield row
        else:
            yield from guarded(document, row.number, build, row)


def optional(value: object) -> str | None:
    """The text of a field, or None when the feed wrote it as empty."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in MISSING else text


_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_CTIME = "%a %b %d %H:%M:%S %Y"
_TRAILING_ZONE = re.compile(r"\s*(UTC|GMT|Z)$", re.IGNORECASE)


def _parse_time(text: str) -> datetime:
    if _EPOCH.match(text):
        seconds = float(text)
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)
    bare = _TRAILING_ZONE.sub("", text)
    try:
        return datetime.fromisoformat(bare)
    except ValueError:
        pass
    try:
        return datetime.strptime(bare, _CTIME)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(text) from None


def feed_time(value: object, column: str | None) -> datetime | None:
    """An aware UTC time from the spellings the feeds use (ISO, epoch, ctime, RFC 2822);
    a time without a zone is UTC, as every one of these feeds documents."""
    text = optional(value)
    if text is None:
        return None
    try:
        moment = _parse_time(text)
    except (ValueError, OverflowError, OSError):
        raise FieldError(column, f"{text!r} is not a date and time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def port(value: object, column: str | None) -> int | None:
    text = optional(value)
    if text is None:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise FieldError(column, f"{text!r} is not a port number (0-65535)")
    return int(text)


_ASN = re.compile(r"^(?:AS)?\s*(\d{1,10})$", re.IGNORECASE)


def asn(value: object, column: str | None) -> int | None:
    """An AS number from '64496' or 'AS64496'; 0 and 'NA' mean the feed did not know."""
    text = optional(value)
    if text is None or text.upper() == "NA":
        return None
    match = _ASN.match(text)
    if not match or int(match.group(1)) >= 2**32:
        raise FieldError(column, f"{text!r} is not an AS number")
    return int(match.group(1)) or None


def count(value: object, column: str | None) -> int | None:
    text = optional(value)
    if text is None:
        return None
    if not text.isdigit():
        raise FieldError(column, f"{text!r} is not a count")
    return int(text)


def address_type(value: str, column: str | None) -> IndicatorType:
    """IPv4, IPv6 or their CIDRs, from the spelling only: the import pipeline validates."""
    if not value:
        raise FieldError(column, "the address is empty")
    v6 = ":" in value
    if "/" in value:
        return IndicatorType.CIDR6 if v6 else IndicatorType.CIDR4
    return IndicatorType.IPV6 if v6 else IndicatorType.IPV4


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PLAIN_SHAPES = (
    (re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"), IndicatorType.IPV4),
    (
        re.compile(
            r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
            re.IGNORECASE,
        ),
        IndicatorType.DOMAIN,
    ),
)
"""The two commonest values of a blocklist, in spellings valid by construction: recognised
without `guess_indicator`'s full normalisation, which is most of a million-line list's cost."""


def guessed_type(
    value: str, column: str | None, allowed: frozenset[IndicatorType] | None = None
) -> IndicatorType:
    """The type of a value whose column does not say (plain lists, IP-or-domain columns)."""
    if not value:
        raise FieldError(column, "the value is empty")
    kind = next((kind for shape, kind in _PLAIN_SHAPES if shape.match(value)), None)
    try:
        kind = kind or guess_indicator(value).type
    except InvalidIndicator as exc:
        raise FieldError(column, str(exc)) from None
    if allowed is not None and kind not in allowed:
        expected = ", ".join(sorted(t.value for t in allowed))
        raise FieldError(column, f"{value!r} is a {kind.value}, expected {expected}")
    return kind


def family(value: object) -> str | None:
    """A malware family as the store keys it: lower-case, single-spaced."""
    text = optional(value)
    return " ".join(text.lower().split()) if text else None


def split_tags(value: object) -> tuple[str, ...]:
    text = optional(value)
    if text is None:
        return ()
    return tuple(tag.strip() for tag in text.split(",") if tag.strip())


class Row:
    """One row or JSON object under the format's field names, remembering what the feed
    called each field, so that a problem names the column as the file spells it."""

    def __init__(self, values: Mapping[str, Any], aliases: Mapping[str, str] | None = None):
        aliases = aliases or {}
        self.values = {aliases.get(key, key): value for key, value in values.items()}
        self.names = {aliases.get(key, key): key for key in values}

    def column(self, name: str) -> str:
        return self.names.get(name, name)

    def text(self, name: str) -> str | None:
        return optional(self.values.get(name))

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise FieldError(self.column(name), "the field is empty")
        return value

    def time(self, name: str) -> datetime | None:
        return feed_time(self.values.get(name), self.column(name))

    def port(self, name: str) -> int | None:
        return port(self.values.get(name), self.column(name))

    def asn(self, name: str) -> int | None:
        return asn(self.values.get(name), self.column(name))

    def tags(self, name: str) -> tuple[str, ...]:
        value = self.values.get(name)
        if isinstance(value, list):
            value = ",".join(str(item) for item in value)
        return tuple(tag for tag in split_tags(value) if tag.lower() not in MISSING)

    def present(self, *names: str) -> dict[str, str]:
        """The named fields the feed filled in, for `extra`."""
        found = {name: self.text(name) for name in names}
        return {name: text for name, text in found.items() if text is not None}
