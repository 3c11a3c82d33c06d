"""Intel sources as people set them up: checked before anything is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.errors import GarrisonError
from garrison.intel.formats import format_named
from garrison.intel.models import RELIABILITY_CODES, Source
from garrison.intel.types import Tlp

TAXII_FORMAT = "taxii"
"""A source of this format is a TAXII 2.1 collection URL, polled with added_after."""


class SourceError(GarrisonError):
    """A source definition that cannot be used; the message names the field and why."""


_INTERVAL = re.compile(r"^(\d+)\s*([mhd])$")
_INTERVAL_MINUTES = {"m": 1, "h": 60, "d": 1440}


def parse_interval(text: str) -> int:
    """'30m', '6h', '1d' → minutes; feeds are not pulled more often than every 5 minutes."""
    match = _INTERVAL.match(text.strip().lower())
    if not match:
        raise SourceError(f"schedule {text!r}: give a number and m, h or d, e.g. '6h'")
    minutes = int(match.group(1)) * _INTERVAL_MINUTES[match.group(2)]
    if minutes < 5:
        raise SourceError(f"schedule {text!r}: pull at most every 5 minutes")
    return minutes


@dataclass(frozen=True)
class SourceSpec:
    name: str
    format: str = "auto"
    url: str | None = None
    pull_interval_minutes: int | None = None
    default_tlp: str = Tlp.AMBER.value
    reliability: str = "C"
    default_confidence: int = 50
    default_expiry_days: int | None = None
    default_classification_type: str | None = None
    auth_header: str | None = None
    auth_secret: str | None = None
    description: str | None = None

    def checked(self) -> SourceSpec:
        """The same spec with values in canonical form; SourceError names what is wrong."""
        name = " ".join(self.name.split())
        if not 1 <= len(name) <= 100:
            raise SourceError("name: give 1 to 100 characters")
        if self.format not in ("auto", TAXII_FORMAT):
            format_named(self.format)
        if self.format == TAXII_FORMAT and self.url is None:
            raise SourceError("url: a TAXII source needs its collection URL")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SourceError(f"url {self.url!r}: give an http:// or https:// address")
        if self.pull_interval_minutes is not None and self.url is None:
            raise SourceError("schedule: only a source with a URL can be pulled")
        try:
            tlp = Tlp.parse(self.default_tlp)
        except ValueError as exc:
            raise SourceError(f"tlp: {exc}") from None
        reliability = self.reliability.strip().upper()
        if len(reliability) != 1 or reliability not in RELIABILITY_CODES:
            raise SourceError(f"reliability {self.reliability!r}: give one letter A to F")
        if not 0 <= self.default_confidence <= 100:
            raise SourceError("confidence: give 0 to 100")
        if self.default_expiry_days is not None and self.default_expiry_days < 1:
            raise SourceError("expiry: give at least 1 day")
        if bool(self.auth_header) != bool(self.auth_secret):
            raise SourceError("auth: give both the header name and the secret, or neither")
        return SourceSpec(
            **{
                **{f.name: getattr(self, f.name) for f in fields(self)},
                "name": name,
                "default_tlp": tlp.value,
                "reliability": reliability,
            }
        )


def add_source(session: Session, spec: SourceSpec) -> Source:
    checked = spec.checked()
    if session.scalars(select(Source.id).where(Source.name == checked.name)).first():
        raise SourceError(f"name: a source named {checked.name!r} already exists")
    source = Source(**{f.name: getattr(checked, f.name) for f in fields(checked)})
    session.add(source)
    session.flush()
    return source


def ensure_source(session: Session, name: str, format_name: str) -> Source:
    """The named source, created with defaults when importing a file for a new source."""
    existing = session.scalars(select(Source).where(Source.name == name)).one_or_none()
    return existing or add_source(session, SourceSpec(name=name, format=format_name))


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
