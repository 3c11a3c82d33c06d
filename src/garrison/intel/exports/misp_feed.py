"""MISP feed: the layout MISP's feed generator serves and MISP's "Feeds" fetch.

A feed is a folder of `manifest.json` (event uuid → Orgc, Tag, info, date, analysis,
threat_level_id, timestamp), one `<event uuid>.json` per event (`{"Event": {…}}`) and
`hashes.csv` (one `md5(attribute value),event uuid` line per attribute, for MISP's overlap
look-ups). One export is one event whose uuid stays the same from export to export (unless
options give another), so a subscribed MISP updates it in place.

The files go into a zip archive on the stream, or into `options.directory` (each written
under a temporary name and renamed when complete, manifest last, so a MISP fetching the
folder never reads a half-written event). Attributes stream into the event file; the hash
lines go to a temporary file meanwhile (a zip can write one member at a time). The event's
TLP tag is the most restrictive of its attributes', so it is written after them (JSON members
have no order), as is the manifest.

Types: ipv4/ipv6/CIDRs → ip-src when the address is the actor or victim emitting traffic
(infected-system, scanner, brute-force, spam, ddos, …) and ip-dst otherwise (c2-server,
malware-distribution, phishing, …); domain → domain, url → url, email → email-src, hashes →
md5/sha1/sha256, filename → filename, asn → AS (the number), phone → phone-number. Each has
its default category from MISP's describeTypes. Brandnames have no MISP type: skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    annotation,
    derived_uuid,
    selected,
)
from garrison.intel.types import IndicatorType, Tlp

SOURCE_SIDE_TYPES = frozenset(
    {
        "infected-system",
        "scanner",
        "brute-force",
        "spam",
        "ddos",
        "exploit",
        "sniffing",
        "social-engineering",
        "dos",
    }
)
_CATEGORIES = {
    "ip-src": "Network activity",
    "ip-dst": "Network activity",
    "domain": "Network activity",
    "url": "Network activity",
    "AS": "Network activity",
    "email-src": "Payload delivery",
    "md5": "Payload delivery",
    "sha1": "Payload delivery",
    "sha256": "Payload delivery",
    "filename": "Payload delivery",
    "phone-number": "Person",
}
_MISP_TYPES = {
    IndicatorType.DOMAIN: "domain",
    IndicatorType.URL: "url",
    IndicatorType.EMAIL: "email-src",
    IndicatorType.MD5: "md5",
    IndicatorType.SHA1: "sha1",
    IndicatorType.SHA256: "sha256",
    IndicatorType.FILENAME: "filename",
    IndicatorType.ASN: "AS",
    IndicatorType.PHONE: "phone-number",
}
_TLP_COLOURS = {
    Tlp.CLEAR: "#ffffff",
    Tlp.GREEN: "#339900",
    Tlp.AMBER: "#ffc000",
    Tlp.AMBER_STRICT: "#ffc000",
    Tlp.RED: "#cc0033",
}
WRITE_BATCH = 256
"""Attributes gathered per write: a zip member compresses each write on its own."""
TAG_COLOUR = "#8a8a8a"
"""Colour of free tags (MISP wants one; the TLP taxonomy has its own)."""


def misp_type(indicator: ExportedIndicator) -> str:
    if indicator.type.is_network:
        source_side = indicator.classification_type in SOURCE_SIDE_TYPES
        return "ip-src" if source_side else "ip-dst"
    return _MISP_TYPES[indicator.type]


def misp_value(indicator: ExportedIndicator) -> str:
    """MISP stores an AS as its number."""
    if indicator.type is IndicatorType.ASN:
        return indicator.value.removeprefix("AS")
    return indicator.value


def tag(name: str, colour: str = TAG_COLOUR) -> dict[str, str]:
    return {"colour": colour, "local": "0", "name": name, "relationship_type": ""}


def tlp_tag(tlp: Tlp) -> dict[str, str]:
    return tag(f"tlp:{tlp.value}", _TLP_COLOURS[tlp])


def _misp_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def attribute(indicator: ExportedIndicator) -> dict[str, Any]:
    kind = misp_type(indicator)
    last_seen = max(indicator.first_seen, indicator.last_seen)
    tags = [tlp_tag(indicator.tlp), *(tag(name) for name in dict.fromkeys(indicator.tags))]
    return {
        "uuid": derived_uuid("misp-attribute", indicator.stable_id),
        "type": kind,
        "category": _CATEGORIES[kind],
        "value": misp_value(indicator),
        "to_ids": True,
        "comment": annotation(indicator),
        "deleted": False,
        "disable_correlation": False,
        "timestamp": _unix(last_seen),
        "first_seen": _misp_time(indicator.first_seen),
        "last_seen": _misp_time(last_seen),
        "Tag": tags,
    }


def value_hash(value: str) -> str:
    return hashlib.md5(value.encode("utf-8"), usedforsecurity=False).hexdigest()


class _FeedFiles(Protocol):
    def create(self, name: str) -> AbstractContextManager[IO[bytes]]: ...


class _ZipFiles:
    """Members of a zip on the caller's stream, dated with the export's time (reproducible)."""

    def __init__(self, archive: zipfile.ZipFile, moment: datetime) -> None:
        self.archive = archive
        self.date_time = moment.timetuple()[:6] if moment.year >= 1980 else (1980, 1, 1, 0, 0, 0)

    @contextmanager
    def create(self, name: str) -> Iterator[IO[bytes]]:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with self.archive.open(info, "w", force_zip64=True) as member:
            yield member


class _DirectoryFiles:
    """Files in a folder a web server serves: renamed into place only once complete."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextmanager
    def create(self, name: str) -> Iterator[IO[bytes]]:
        target = self.directory / name
        partial = target.with_name(f".{name}.partial")
        try:
            with partial.open("wb") as handle:
                yield handle
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=None).encode("utf-8")


class MispFeedExport:
    name = "misp-feed"
    title = "MISP feed"
    media_type = "application/zip"
    file_suffix = ".zip"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind.is_network or kind in _MISP_TYPES

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        event_uuid = _event_uuid(options)
        moment = options.moment()
        if options.directory is not None:
            options.directory.mkdir(parents=True, exist_ok=True)
            files: _FeedFiles = _DirectoryFiles(options.directory)
            return self._write_feed(indicators, files, options, event_uuid, moment)
        with zipfile.ZipFile(stream, "w") as archive:
            files = _ZipFiles(archive, moment)
            return self._write_feed(indicators, files, options, event_uuid, moment)

    def _write_feed(
        self,
        indicators: Iterable[ExportedIndicator],
        files: _FeedFiles,
        options: ExportOptions,
        event_uuid: str,
        moment: datetime,
    ) -> ExportSummary:
        summary = ExportSummary(self.name)
        organisation = {
            "name": options.producer,
            "uuid": derived_uuid("misp-organisation", options.producer),
        }
        header = {
            "uuid": event_uuid,
            "info": options.title,
            "date": moment.date().isoformat(),
            "timestamp": _unix(moment),
            "publish_timestamp": _unix(moment),
            "published": True,
            "analysis": "2",
            "threat_level_id": "4",
            "extends_uuid": "",
            "Orgc": organisation,
        }
        seen_tlps: set[Tlp] = set()
        with tempfile.TemporaryFile() as hashes:
            with files.create(f"{event_uuid}.json") as event:
                pending = [b'{"Event": ' + _json_bytes(header)[:-1] + b', "Attribute": [']
                for indicator in selected(indicators, self, options, summary):
                    misp = attribute(indicator)
                    pending.append((b"\n" if summary.written == 0 else b",\n") + _json_bytes(misp))
                    hashes.write(f"{value_hash(misp['value'])},{event_uuid}\n".encode("ascii"))
                    seen_tlps.add(indicator.tlp)
                    summary.wrote(indicator)
                    if len(pending) >= WRITE_BATCH:
                        event.write(b"".join(pending))
                        pending.clear()
                event_tlp = max(seen_tlps, key=lambda tlp: tlp.rank, default=Tlp.CLEAR)
                tags = [tlp_tag(event_tlp)]
                pending.append(b'\n], "Tag": ' + _json_bytes(tags) + b"}}\n")
                event.write(b"".join(pending))
            hashes.seek(0)
            with files.create("hashes.csv") as hashes_file:
                shutil.copyfileobj(hashes, hashes_file)
        manifest = {
            event_uuid: {
                "Orgc": organisation,
                "Tag": tags,
                "info": options.title,
                "date": header["date"],
                "analysis": 2,
                "threat_level_id": 4,
                "timestamp": int(moment.timestamp()),
            }
        }
        with files.create("manifest.json") as manifest_file:
            manifest_file.write(json.dumps(manifest, ensure_ascii=False, indent=4).encode("utf-8"))
        return summary


def _event_uuid(options: ExportOptions) -> str:
    if options.event_uuid is None:
        return derived_uuid("misp-event", options.producer, options.title)
    try:
        return str(uuid.UUID(options.event_uuid))
    except ValueError:
        raise InvalidExportOption(f"event uuid {options.event_uuid!r} is not a uuid") from None


EXPORT = MispFeedExport()
