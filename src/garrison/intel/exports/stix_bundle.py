"""STIX 2.1 bundle: an `indicator` per value, `malware` families and `indicates` links.

The JSON is written by hand, object by object, because the stix2 library builds a bundle in
memory and validates each pattern with a parser that costs about a millisecond an object
(twenty minutes for a million); the tests check samples with `stix2.parse` and the pattern
validator. Memory kept: the malware families and TLP markings already written (a handful).

Everything is deterministic so a re-export of the same data is byte-identical and a consumer
sees versions of the same objects: indicator ids are uuid5 of the stored indicator's stable
id, `created`/`modified` are its first and last sighting, family and relationship ids derive
from names, and the bundle id from a hash of the objects (written after them: JSON members
have no order). A family object carries nothing time-bound, so its timestamps are fixed, and
nothing of the requester's data, so it is unmarked; the `indicates` links carry the
indicator's marking.

Patterns: `[ipv4-addr:value = '…']` for an address and `ISSUBSET '…/24'` for a network (any
address inside matches), domain-name, url, email-addr, `file:hashes.MD5`/`'SHA-1'`/
`'SHA-256'`, `file:name`, `autonomous-system:number`; quotes and backslashes in values are
escaped. Phone numbers and brandnames have no STIX observable: skipped.

TLP 2.0 markings use the marking-definition objects OASIS published with the TLP 2.0
extension (cti-stix-common-objects), carried in the bundle once each.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any, BinaryIO, TextIO

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    derived_uuid,
    selected,
    text_output,
    utc_text,
)
from garrison.intel.types import IndicatorType, Tlp

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
FAMILY_TIMESTAMP = "1970-01-01T00:00:00.000Z"

_OBJECT_PATHS = {
    IndicatorType.IPV4: "ipv4-addr:value",
    IndicatorType.CIDR4: "ipv4-addr:value",
    IndicatorType.IPV6: "ipv6-addr:value",
    IndicatorType.CIDR6: "ipv6-addr:value",
    IndicatorType.DOMAIN: "domain-name:value",
    IndicatorType.URL: "url:value",
    IndicatorType.EMAIL: "email-addr:value",
    IndicatorType.MD5: "file:hashes.MD5",
    IndicatorType.SHA1: "file:hashes.'SHA-1'",
    IndicatorType.SHA256: "file:hashes.'SHA-256'",
    IndicatorType.FILENAME: "file:name",
    IndicatorType.ASN: "autonomous-system:number",
}
_INDICATOR_TYPES = {"infected-system": "compromised", "compromised": "compromised"}


def string_literal(value: str) -> str:
    """A STIX pattern string: quotes and backslashes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_pattern(kind: IndicatorType, value: str) -> str:
    path = _OBJECT_PATHS[kind]
    if kind is IndicatorType.ASN:
        return f"[{path} = {int(value.removeprefix('AS'))}]"
    operator = "ISSUBSET" if kind in (IndicatorType.CIDR4, IndicatorType.CIDR6) else "="
    return f"[{path} {operator} {string_literal(value)}]"


def marking_object(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking definition exactly as OASIS published it."""
    name = "TLP:" + tlp.value.upper()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def indicator_id(indicator: ExportedIndicator) -> str:
    return "indicator--" + derived_uuid("stix-indicator", indicator.stable_id)


def malware_id(family: str) -> str:
    return "malware--" + derived_uuid("stix-malware", family)


def indicator_object(indicator: ExportedIndicator) -> dict[str, Any]:
    created = utc_text(indicator.first_seen, 3)
    modified = utc_text(max(indicator.first_seen, indicator.last_seen), 3)
    kind = _INDICATOR_TYPES.get(indicator.classification_type or "", "malicious-activity")
    labels = [
        label for label in dict.fromkeys([*indicator.tags, indicator.classification_type]) if label
    ]
    stix: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(indicator),
        "created": created,
        "modified": modified,
        "name": indicator.value,
        "indicator_types": [kind],
        "pattern": stix_pattern(indicator.type, indicator.value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": created,
    }
    if indicator.expires_at is not None:
        stix["valid_until"] = utc_text(indicator.expires_at, 3)
    if indicator.description:
        stix["description"] = indicator.description
    if indicator.confidence is not None and 0 <= indicator.confidence <= 100:
        stix["confidence"] = indicator.confidence
    if labels:
        stix["labels"] = labels
    if indicator.sources:
        stix["external_references"] = [
            {"source_name": source, "description": "reported this indicator"}
            for source in indicator.sources
        ]
    stix["object_marking_refs"] = [TLP_MARKINGS[indicator.tlp]]
    return stix


def malware_object(family: str) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": malware_id(family),
        "created": FAMILY_TIMESTAMP,
        "modified": FAMILY_TIMESTAMP,
        "name": family,
        "is_family": True,
    }


def relationship_object(indicator: dict[str, Any], family: str) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--" + derived_uuid("stix-indicates", indicator["id"], family),
        "created": indicator["created"],
        "modified": indicator["modified"],
        "relationship_type": "indicates",
        "source_ref": indicator["id"],
        "target_ref": malware_id(family),
        "object_marking_refs": indicator["object_marking_refs"],
    }


def _valid_window(indicator: ExportedIndicator) -> bool:
    """STIX requires valid_until after valid_from, at the millisecond precision written."""
    if indicator.expires_at is None:
        return True
    return utc_text(indicator.expires_at, 3) > utc_text(indicator.first_seen, 3)


class _BundleWriter:
    """Writes objects into the bundle's `objects` array and hashes them for the bundle id.

    The array opens with the first object: STIX lists must not be empty, so an empty bundle
    has no `objects` member."""

    def __init__(self, text: TextIO) -> None:
        self.text = text
        self.digest = hashlib.sha256()
        self.count = 0
        text.write('{"type": "bundle"')

    def add(self, stix: dict[str, Any]) -> None:
        encoded = json.dumps(stix, ensure_ascii=False)
        self.digest.update(encoded.encode("utf-8"))
        self.text.write((', "objects": [\n' if self.count == 0 else ",\n") + encoded)
        self.count += 1

    def close(self) -> None:
        bundle_uuid = uuid.UUID(bytes=self.digest.digest()[:16], version=5)
        self.text.write(("\n]" if self.count else "") + f', "id": "bundle--{bundle_uuid}"}}\n')


class StixExport:
    name = "stix2"
    title = "STIX 2.1 bundle"
    media_type = "application/stix+json;version=2.1"
    file_suffix = ".json"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind in _OBJECT_PATHS

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        summary = ExportSummary(self.name)
        markings: set[Tlp] = set()
        families: set[str] = set()
        with text_output(stream) as text:
            bundle = _BundleWriter(text)
            for indicator in selected(indicators, self, options, summary):
                if not _valid_window(indicator):
                    summary.skip(f"{indicator.type}: expires before it was first seen")
                    continue
                if indicator.tlp not in markings:
                    markings.add(indicator.tlp)
                    bundle.add(marking_object(indicator.tlp))
                stix = indicator_object(indicator)
                bundle.add(stix)
                for family in dict.fromkeys(indicator.malware):
                    if family not in families:
                        families.add(family)
                        bundle.add(malware_object(family))
                    bundle.add(relationship_object(stix, family))
                summary.wrote(indicator)
            bundle.close()
        return summary


EXPORT = StixExport()
