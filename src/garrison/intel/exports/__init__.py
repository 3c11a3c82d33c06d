"""Indicator exports: one module per format, each exposing a module-level `EXPORT`.

The database layer decides what a requester may receive (TLP, organisation) and hands an
iterable of `ExportedIndicator`s to a format, which only writes. Every format streams: it
writes each indicator as it reads it, so exporting a million indicators holds a bounded
amount in memory (a format's docstring says what little it keeps). Adding a format is adding
one module here; the registry finds it by walking this package.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pkgutil
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import BinaryIO, Literal, Protocol, TextIO

from garrison.core.clock import utc_now
from garrison.core.errors import GarrisonError
from garrison.intel.types import IndicatorType, Tlp


@dataclass(frozen=True, slots=True)
class ExportedIndicator:
    """One stored indicator as a requester may see it."""

    type: IndicatorType
    value: str
    """Canonical (normalised) value."""
    first_seen: datetime
    """Aware UTC."""
    last_seen: datetime
    tlp: Tlp
    confidence: int | None
    """0-100."""
    tags: tuple[str, ...]
    malware: tuple[str, ...]
    """Malware family names, lower-case."""
    sources: tuple[str, ...]
    """Names of the sources that reported it."""
    classification_type: str | None
    """RSIT type, e.g. 'c2-server', 'infected-system'."""
    expires_at: datetime | None
    description: str | None
    stable_id: str
    """A stable identifier (uuid string) of the stored indicator: exported ids derive from it,
    so exporting the same indicator twice gives the same ids."""


class RpzPolicy(StrEnum):
    """What a DNS firewall answers for a name or address listed in an RPZ zone."""

    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    DROP = "drop"
    WALLED_GARDEN = "walled-garden"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Choices for one export; each format reads the fields it needs and ignores the rest."""

    generated_at: datetime | None = None
    """The export's time (now when None); a fixed value makes the output byte-identical."""
    types: frozenset[IndicatorType] | None = None
    """Only these indicator types (all the format accepts when None)."""
    producer: str = "Garrison"
    """Who publishes the export: the MISP event's organisation."""
    title: str = "Garrison indicator export"
    """The MISP event's `info`; header comments of the text formats."""

    event_uuid: str | None = None
    """MISP feed: the event's uuid; by default derived from producer and title, so successive
    exports update one event in the consumers' MISP instead of piling up new ones."""
    directory: Path | None = None
    """MISP feed: write the feed's files into this directory (the stream gets nothing) instead
    of a zip archive on the stream."""

    namespace: str = "garrison"
    """ipset/nftables/FortiGate: the nftables table, and the prefix of ipset sets and FortiGate
    object names, so that exported objects never collide with a site's own."""
    set_name: str = "blocklist"
    """ipset/nftables: sets are `<set_name>_v4` and `<set_name>_v6`; FortiGate: groups are
    `<namespace>-<set_name>-<n>`."""
    set_size: int = 1_048_576
    """ipset: `maxelem` of each set; addresses beyond it are skipped (counted)."""
    chunk_size: int = 1000
    """nftables: elements per `add element` statement."""
    group_size: int = 600
    """FortiGate: members per address group (see the fortigate module for the limit)."""

    zone: str = "rpz.garrison.invalid"
    """RPZ: the policy zone's name."""
    nameserver: str = "localhost"
    """RPZ: the name in the zone's SOA MNAME and NS record."""
    hostmaster: str = "hostmaster.localhost"
    """RPZ: the SOA RNAME (the zone's contact, as a domain name)."""
    policy: RpzPolicy = RpzPolicy.NXDOMAIN
    walled_garden: str | None = None
    """RPZ: the host answered instead when the policy is WALLED_GARDEN."""
    wildcard: bool = True
    """RPZ: list `*.domain` too, so that subdomains are blocked with the domain."""
    ttl: int = 300
    serial: Literal["unixtime", "date"] = "unixtime"
    """RPZ: the SOA serial as the export's unix time, or as YYYYMMDDnn with nn the hour."""

    def moment(self) -> datetime:
        return (self.generated_at or utc_now()).astimezone(UTC)


@dataclass(slots=True)
class ExportSummary:
    """What an export wrote, and what it left out and why (reason → count)."""

    format: str
    written: int = 0
    written_by_type: Counter[IndicatorType] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def wrote(self, indicator: ExportedIndicator) -> None:
        self.written += 1
        self.written_by_type[indicator.type] += 1

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class ExportFormat(Protocol):
    """What every export module's `EXPORT` object provides."""

    name: str
    """Short identifier used on the CLI and in the API, e.g. 'csv', 'stix2', 'rpz'."""
    title: str
    media_type: str
    file_suffix: str

    def accepts(self, kind: IndicatorType) -> bool:
        """Whether the format can carry indicators of this type; others are skipped."""
        ...

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        """Write the indicators as they come; raises `InvalidExportOption` before writing
        anything when an option cannot be used by this format."""
        ...


class UnknownExportError(GarrisonError):
    """No export format has that name; the message lists the known ones."""


class InvalidExportOption(GarrisonError):
    """An option cannot be used by the chosen format (a set name too long, a bad zone)."""


@cache
def registered_exports() -> dict[str, ExportFormat]:
    found: dict[str, ExportFormat] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        export = getattr(module, "EXPORT", None)
        if export is not None:
            found[export.name] = export
    return dict(sorted(found.items()))


def export_named(name: str) -> ExportFormat:
    exports = registered_exports()
    if name not in exports:
        raise UnknownExportError(
            f"unknown export format {name!r}; known formats: {', '.join(exports)}"
        )
    return exports[name]


def selected(
    indicators: Iterable[ExportedIndicator],
    export: ExportFormat,
    options: ExportOptions,
    summary: ExportSummary,
) -> Iterator[ExportedIndicator]:
    """The indicators the format can carry and the options ask for; the rest are counted."""
    for indicator in indicators:
        if options.types is not None and indicator.type not in options.types:
            summary.skip(f"{indicator.type}: type not selected")
        elif not export.accepts(indicator.type):
            summary.skip(f"{indicator.type}: not supported by {export.name}")
        else:
            yield indicator


@contextmanager
def text_output(stream: BinaryIO, encoding: str = "utf-8") -> Iterator[TextIO]:
    """UTF-8 text over the caller's binary stream, which stays open afterwards."""
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        yield text
    finally:
        text.detach()


EXPORT_NAMESPACE = uuid.UUID("c2f85265-86f3-4d84-8923-4168d9190f05")
"""Namespace of the uuid5 ids exports derive, so that re-exports give the same ids."""


def derived_uuid(*parts: str) -> str:
    """uuid5 of the parts in EXPORT_NAMESPACE (computed directly: `uuid.uuid5` is the
    slowest step of a large export otherwise)."""
    digest = bytearray(hashlib.sha1(EXPORT_NAMESPACE.bytes + "\x1f".join(parts).encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest[:16].hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_TIMESPECS = {0: "seconds", 3: "milliseconds", 6: "microseconds"}


def utc_text(moment: datetime, digits: Literal[0, 3, 6] = 0) -> str:
    """RFC 3339 in UTC with a 'Z' and `digits` fractional-second digits."""
    text = moment.astimezone(UTC).isoformat(timespec=_TIMESPECS[digits])
    return text.removesuffix("+00:00") + "Z"


IP_VERSIONS = {
    IndicatorType.IPV4: 4,
    IndicatorType.CIDR4: 4,
    IndicatorType.IPV6: 6,
    IndicatorType.CIDR6: 6,
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
"""C0 and C1 controls and the Unicode line separators: all of them break a line somewhere."""


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def one_line(text: str) -> str:
    """Text safe inside a comment or quoted string of a line-based format."""
    return " ".join(_CONTROL.sub(" ", text).split())


def annotation(indicator: ExportedIndicator) -> str:
    """A short single-line note on why an indicator is listed: for comments."""
    parts = [indicator.classification_type or str(indicator.type)]
    if indicator.malware:
        parts.append("malware " + ", ".join(indicator.malware))
    if indicator.sources:
        parts.append("source " + ", ".join(indicator.sources))
    if indicator.description:
        parts.append(indicator.description)
    return one_line("; ".join(parts))


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


def checked_name(what: str, name: str, max_length: int) -> str:
    """An identifier a firewall accepts unquoted; InvalidExportOption otherwise."""
    if not _NAME.match(name):
        raise InvalidExportOption(
            f"{what} {name!r} must start with a letter and hold only letters, digits, "
            "'_', '.' and '-'"
        )
    if len(name) > max_length:
        raise InvalidExportOption(f"{what} {name!r} is longer than {max_length} characters")
    return name
