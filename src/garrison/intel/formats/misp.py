"""MISP events: `{"Event": {...}}` exports (also bare, listed or in a REST `response`).

Each attribute with a type Garrison stores is one event, objects' attributes included; a
composite attribute (`domain|ip`, `ip-dst|port`, `filename|sha256`) gives its indicator
parts, with ports and file names as context. Attributes not meant for detection
(`to_ids` false) are kept, marked `extra.to_ids = False` and tagged `not-ids`, so that
the analyst still sees them and exports can leave them out. Descriptive attributes (links,
comments, text) are context, not indicators; any other type Garrison has no indicator type
for is counted in one problem per type rather than one per attribute.

Event and attribute tags give the TLP (`tlp:amber`), the RSIT classification (`rsit:` and
the older `ecsirt:` taxonomy) and, with galaxies, the malware family. MISP feeds
(`misp_feed`) read each of their event files with `read_events`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._json_document import IdentifierLines, load_json
from garrison.intel.types import IndicatorType, Tlp

_Role = IndicatorType | Literal["ip", "source_port", "destination_port", "filename"]

ATTRIBUTE_TYPES: Mapping[str, tuple[_Role, ...]] = {
    "md5": (IndicatorType.MD5,),
    "sha1": (IndicatorType.SHA1,),
    "sha256": (IndicatorType.SHA256,),
    "filename": (IndicatorType.FILENAME,),
    "filename|md5": ("filename", IndicatorType.MD5),
    "filename|sha1": ("filename", IndicatorType.SHA1),
    "filename|sha256": ("filename", IndicatorType.SHA256),
    "malware-sample": ("filename", IndicatorType.MD5),
    "ip-src": ("ip",),
    "ip-dst": ("ip",),
    "ip-src|port": ("ip", "source_port"),
    "ip-dst|port": ("ip", "destination_port"),
    "hostname": (IndicatorType.DOMAIN,),
    "domain": (IndicatorType.DOMAIN,),
    "hostname|port": (IndicatorType.DOMAIN, "destination_port"),
    "domain|ip": (IndicatorType.DOMAIN, "ip"),
    "onion-address": (IndicatorType.DOMAIN,),
    "url": (IndicatorType.URL,),
    "email": (IndicatorType.EMAIL,),
    "email-src": (IndicatorType.EMAIL,),
    "email-dst": (IndicatorType.EMAIL,),
    "email-reply-to": (IndicatorType.EMAIL,),
    "whois-registrant-email": (IndicatorType.EMAIL,),
    "dns-soa-email": (IndicatorType.EMAIL,),
    "AS": (IndicatorType.ASN,),
    "phone-number": (IndicatorType.PHONE,),
    "whois-registrant-phone": (IndicatorType.PHONE,),
}
"""MISP attribute types (describeTypes.json) → what each `|`-separated part of the value is."""

CONTEXT_TYPES = frozenset({"link", "comment", "text", "other"})
"""Attribute types that describe an event rather than name an indicator; skipped quietly."""

MALWARE_GALAXIES = frozenset(
    {
        "malpedia", "mitre-malware", "mitre-enterprise-attack-malware",
        "mitre-mobile-attack-malware", "android", "backdoor", "banker", "botnet",
        "ransomware", "rat", "stealer",
    }
)  # fmt: skip
ACTOR_GALAXIES = frozenset({"threat-actor", "mitre-intrusion-set", "microsoft-activity-group"})

_LEGACY_ECSIRT_TYPES: Mapping[str, str] = {
    "botnet-drone": "infected-system",
    "c&c": "c2-server",
    "compromised": "system-compromise",
    "backdoor": "system-compromise",
    "bot": "system-compromise",
    "vulnerable-service": "vulnerable-system",
    "unknown": "undetermined",
}
"""Older eCSIRT taxonomy values that RSIT renamed; malware kinds (virus, trojan,
ransomware…) name no RSIT type and are read as `malicious-code` alone."""
_MALWARE_KINDS = frozenset(
    {"virus", "worm", "trojan", "spyware", "dialer", "rootkit", "malware", "ransomware"}
)
_NETWORK_KINDS = frozenset(
    {IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.CIDR4, IndicatorType.CIDR6,
     IndicatorType.DOMAIN, IndicatorType.URL}
)  # fmt: skip
_CATEGORY_ROLES = {"Payload delivery": "malware-distribution", "Network activity": "c2-server"}
"""What a network indicator of a malware event is, by the MISP category it was filed in."""

THREAT_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": "undefined"}
_SIGHTING, _FALSE_POSITIVE, _EXPIRATION = "0", "1", "2"

_MACHINE_TAG = re.compile(r'^(?P<namespace>[^:=\s]+):(?P<predicate>[^=]+?)(?:="(?P<value>.*)")?$')


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _list_of_dicts(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _flag(value: object) -> bool:
    """MISP writes booleans as true/false, 1/0 or "1"/"0" depending on the export."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _epoch(value: object) -> datetime | None:
    """A MISP timestamp (seconds since 1970, often as a string); ValueError when unreadable."""
    if value is None or value == "":
        return None
    text = _text(value)
    if text is None or not re.fullmatch(r"\d{1,11}", text.strip()):
        raise ValueError(f"{value!r} is not a Unix timestamp")
    return datetime.fromtimestamp(int(text.strip()), UTC)


def _iso(value: object) -> datetime | None:
    """An ISO 8601 time (attribute first_seen/last_seen); ValueError when unreadable."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _ip_kind(value: str) -> IndicatorType:
    if ":" in value:
        return IndicatorType.CIDR6 if "/" in value else IndicatorType.IPV6
    return IndicatorType.CIDR4 if "/" in value else IndicatorType.IPV4


@dataclass(slots=True)
class _Labels:
    """What tags and galaxies say about an event or one attribute."""

    tags: list[str] = field(default_factory=list)
    tlp: Tlp | None = None
    classification: tuple[str, str | None] | None = None
    malware: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, holder: Mapping[str, Any]) -> _Labels:
        labels = cls()
        for tag in _list_of_dicts(holder.get("Tag")):
            name = tag.get("name")
            if isinstance(name, str) and name.strip():
                labels.add_tag(name.strip())
        for galaxy in _list_of_dicts(holder.get("Galaxy")):
            for cluster in _list_of_dicts(galaxy.get("GalaxyCluster")):
                kind, value = cluster.get("type") or galaxy.get("type"), cluster.get("value")
                if isinstance(kind, str) and isinstance(value, str):
                    labels.add_galaxy(kind, value)
        return labels

    def add_tag(self, name: str) -> None:
        match = _MACHINE_TAG.match(name)
        namespace = match.group("namespace").lower() if match else ""
        if namespace == "tlp" and match and not match.group("value"):
            try:
                tlp = Tlp.parse(name)
            except ValueError:  # tlp:unclear, tlp:ex:chr: not a TLP label
                pass
            else:
                self.tlp = tlp if self.tlp is None else self.tlp.most_restrictive(tlp)
                return
        if name not in self.tags:
            self.tags.append(name)
        if not match or match.group("value") is None:
            return
        predicate, value = match.group("predicate").strip(), match.group("value").strip()
        if namespace == "misp-galaxy":
            self.add_galaxy(predicate, value)
        elif namespace in ("rsit", "ecsirt") and self.classification is None:
            self.classification = _taxonomy(predicate.lower(), value.lower())

    def add_galaxy(self, kind: str, value: str) -> None:
        if kind in MALWARE_GALAXIES and value.lower() not in self.malware:
            self.malware.append(value.lower())
        elif kind in ACTOR_GALAXIES and value not in self.actors:
            self.actors.append(value)

    def over(self, event: _Labels) -> _Labels:
        """This attribute's labels, completed by its event's; the stricter TLP wins."""
        tlp = self.tlp or event.tlp
        if self.tlp and event.tlp:
            tlp = self.tlp.most_restrictive(event.tlp)
        return _Labels(
            list(dict.fromkeys(event.tags + self.tags)),
            tlp,
            self.classification or event.classification,
            self.malware or event.malware,
            list(dict.fromkeys(event.actors + self.actors)),
        )


def _taxonomy(taxonomy: str, value: str) -> tuple[str, str | None]:
    if taxonomy == "malicious-code" and value in _MALWARE_KINDS:
        return taxonomy, None
    return taxonomy, _LEGACY_ECSIRT_TYPES.get(value, value)


@dataclass(slots=True)
class _Sightings:
    seen: int = 0
    false_positives: int = 0
    last_seen: datetime | None = None
    expires_at: datetime | None = None

    def add(self, sighting: Mapping[str, Any]) -> None:
        """Count one sighting; one without a readable date still counts, undated."""
        kind = _text(sighting.get("type")) or _SIGHTING
        try:
            when = _epoch(sighting.get("date_sighting"))
        except ValueError:
            when = None
        if kind == _SIGHTING:
            self.seen += 1
            if when and (self.last_seen is None or when > self.last_seen):
                self.last_seen = when
        elif kind == _FALSE_POSITIVE:
            self.false_positives += 1
        elif kind == _EXPIRATION and when and (self.expires_at is None or when < self.expires_at):
            self.expires_at = when


class SkippedTypes:
    """Attributes of types Garrison cannot store: one problem per type, where it first was."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first: dict[str, tuple[str, int | None]] = {}

    def add(self, kind: str, source: str, line: int | None) -> None:
        self.counts[kind] += 1
        self.first.setdefault(kind, (source, line))

    def problems(self) -> Iterator[RowProblem]:
        for kind, count in self.counts.items():
            source, line = self.first[kind]
            reason = (
                f"{count} attribute(s) of MISP type {kind!r} not imported: Garrison has no "
                "indicator type for it"
            )
            yield RowProblem(source, reason, row=line, column="type")


class _EventReader:
    """The events of one MISP event object."""

    def __init__(
        self,
        event: Mapping[str, Any],
        source: str,
        lines: IdentifierLines,
        feed_name: str,
        skipped: SkippedTypes,
    ) -> None:
        self.event = event
        self.source = source
        self.lines = lines
        self.feed_name = feed_name
        self.skipped = skipped
        self.labels = _Labels.read(event)
        self.event_line = lines.peek(event.get("uuid"))
        self.event_sightings: dict[str, list[Mapping[str, Any]]] = {}
        for sighting in _list_of_dicts(event.get("Sighting")):
            attribute_uuid = str(sighting.get("attribute_uuid", ""))
            self.event_sightings.setdefault(attribute_uuid, []).append(sighting)
        info = _text(event.get("info"))
        self.info = info.strip() if info and info.strip() else None
        self.payload_types = [
            value.strip().lower()
            for attribute in _list_of_dicts(event.get("Attribute"))
            if attribute.get("category") == "Payload type"
            and (value := _text(attribute.get("value")))
            and value.strip()
        ]

    def problem(self, line: int | None, reason: str, column: str | None = None) -> RowProblem:
        return RowProblem(self.source, reason, row=line, column=column)

    def items(self) -> Iterator[ParsedItem]:
        for key in ("Attribute", "Object"):
            if key in self.event and not isinstance(self.event[key], list):
                yield self.problem(self.event_line, f'"{key}" is not a list', key)
        for attribute in _list_of_dicts(self.event.get("Attribute")):
            yield from self.attribute(attribute, None)
        for obj in _list_of_dicts(self.event.get("Object")):
            if _flag(obj.get("deleted")):
                continue
            for attribute in _list_of_dicts(obj.get("Attribute")):
                yield from self.attribute(attribute, obj)

    def attribute(
        self, attribute: Mapping[str, Any], obj: Mapping[str, Any] | None
    ) -> Iterator[ParsedItem]:
        if _flag(attribute.get("deleted")):
            return
        uuid = _text(attribute.get("uuid"))
        line = self.lines.peek(uuid) or self.event_line
        label = f"attribute {uuid}" if uuid else "attribute"
        kind, value = _text(attribute.get("type")), _text(attribute.get("value"))
        if kind is None or value is None:
            missing = "type" if kind is None else "value"
            yield self.problem(line, f"{label} has no text {missing}", missing)
            return
        if kind in CONTEXT_TYPES:
            return
        roles = ATTRIBUTE_TYPES.get(kind)
        if roles is None:
            self.skipped.add(kind, self.source, line)
            return
        if not value.strip():
            yield self.problem(line, f"{label}: the value is empty", "value")
            return
        parts = [part.strip() for part in value.split("|")] if len(roles) > 1 else [value.strip()]
        if len(parts) != len(roles) or not all(parts):
            yield self.problem(
                line, f"{label}: value {value!r} does not have the {len(roles)} parts of "
                f"type {kind!r} (separated by '|')", "value",
            )  # fmt: skip
            return
        context: dict[str, str] = {}
        indicators: list[tuple[IndicatorType, str]] = []
        for role, part in zip(roles, parts, strict=True):
            if isinstance(role, IndicatorType):
                indicators.append((role, part))
            elif role == "ip":
                indicators.append((_ip_kind(part), part))
            else:
                context[role] = part
        try:
            ports = {role: _port(context[role]) for role in _PORTS if role in context}
            shared = self.shared(attribute, obj, kind, uuid)
        except _FieldError as exc:
            yield self.problem(line, f"{label}: {exc.reason}", exc.column)
            return
        if "filename" in context:
            shared.extra["filename"] = context["filename"]
        category = _text(attribute.get("category")) or ""
        for indicator, part in indicators:
            taxonomy, rsit_type = shared.classification or (None, None)
            if taxonomy == "malicious-code" and rsit_type is None and indicator in _NETWORK_KINDS:
                rsit_type = _CATEGORY_ROLES.get(category)
            yield IntelEvent(
                indicator_type=indicator,
                value=part,
                feed_name=self.feed_name,
                line=line,
                time_source=shared.time_source,
                last_seen=shared.last_seen,
                classification_taxonomy=taxonomy,
                classification_type=rsit_type,
                malware_name=shared.malware_name,
                source_port=ports.get("source_port"),
                destination_port=ports.get("destination_port"),
                count=shared.count,
                tlp=shared.tlp,
                expires_at=shared.expires_at,
                tags=shared.tags,
                description=self.info,
                extra=dict(shared.extra),
                raw=json.dumps(attribute, ensure_ascii=False),
            )

    def sightings_of(self, attribute: Mapping[str, Any], uuid: str | None) -> _Sightings:
        """The attribute's own sightings and those the event lists for it."""
        sightings = _Sightings()
        for sighting in _list_of_dicts(attribute.get("Sighting")):
            sightings.add(sighting)
        for sighting in self.event_sightings.get(uuid or "", ()):
            sightings.add(sighting)
        return sightings

    def shared(
        self,
        attribute: Mapping[str, Any],
        obj: Mapping[str, Any] | None,
        kind: str,
        uuid: str | None,
    ) -> _Shared:
        """What every event of this attribute has in common; _FieldError for a bad time."""
        sightings = self.sightings_of(attribute, uuid)
        labels = _Labels.read(attribute).over(self.labels)
        to_ids = _flag(attribute.get("to_ids"))
        tags = labels.tags + ([] if to_ids else ["not-ids"])
        if sightings.false_positives:
            tags.append("false-positive")
        distribution = _text(attribute.get("distribution"))
        if distribution in (None, "5"):  # 5: inherit the event's
            distribution = _text(self.event.get("distribution"))
        orgc = self.event.get("Orgc")
        optional = {
            "distribution": int(distribution) if distribution and distribution.isdigit() else None,
            "threat_level": THREAT_LEVELS.get(_text(self.event.get("threat_level_id")) or ""),
            "comment": _text(attribute.get("comment")) or None,
            "misp_object": obj.get("name") if obj else None,
            "misp_object_uuid": obj.get("uuid") if obj else None,
            "object_relation": _text(attribute.get("object_relation")) or None,
            "org": orgc.get("name") if isinstance(orgc, Mapping) else None,
            "attributed_to": labels.actors or None,
            "malware_names": labels.malware if len(labels.malware) > 1 else None,
            "sightings": sightings.seen or None,
            "false_positives": sightings.false_positives or None,
        }
        extra: dict[str, Any] = {
            "misp_event_uuid": self.event.get("uuid"),
            "misp_attribute_uuid": uuid,
            "misp_type": kind,
            "misp_category": attribute.get("category"),
            "to_ids": to_ids,
        }
        extra.update({key: value for key, value in optional.items() if value is not None})
        malware = labels.malware[0] if labels.malware else None
        classification = labels.classification
        if classification is None and (malware or self.payload_types):
            classification = ("malicious-code", None)
        return _Shared(
            time_source=_time("first_seen", _iso, attribute)
            or _time("timestamp", _epoch, attribute),
            last_seen=_time("last_seen", _iso, attribute) or sightings.last_seen,
            expires_at=sightings.expires_at,
            count=sightings.seen or None,
            tlp=labels.tlp,
            tags=tuple(dict.fromkeys(tags)),
            malware_name=malware or (self.payload_types[0] if self.payload_types else None),
            classification=classification,
            extra=extra,
        )


_PORTS = ("source_port", "destination_port")


class _FieldError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise _FieldError("value", f"port {text!r} is not a number from 0 to 65535")
    return int(text)


def _time(
    key: str, read: Callable[[object], datetime | None], attribute: Mapping[str, Any]
) -> datetime | None:
    try:
        return read(attribute.get(key))
    except ValueError as exc:
        raise _FieldError(key, str(exc)) from None


@dataclass(slots=True)
class _Shared:
    """What every event of one attribute has in common (a `domain|ip` gives two)."""

    time_source: datetime | None
    last_seen: datetime | None
    expires_at: datetime | None
    count: int | None
    tlp: Tlp | None
    tags: tuple[str, ...]
    malware_name: str | None
    classification: tuple[str, str | None] | None
    extra: dict[str, Any]


def _events_in(data: object, name: str) -> list[object]:
    """The event objects of a MISP export, whichever of its shapes it has."""
    if isinstance(data, dict) and "Event" in data:
        return [data["Event"]]
    if isinstance(data, dict) and isinstance(data.get("response"), list):
        data = data["response"]
    if isinstance(data, list):
        return [item.get("Event", item) if isinstance(item, dict) else item for item in data]
    if isinstance(data, dict) and ("Attribute" in data or "Object" in data):
        return [data]
    raise InputError(
        [RowProblem(name, 'is not a MISP event: expected {"Event": {…}} with an "Attribute" list')]
    )


def read_events(
    data: object, source: str, lines: IdentifierLines, feed_name: str, skipped: SkippedTypes
) -> Iterator[ParsedItem]:
    for position, event in enumerate(_events_in(data, source)):
        if not isinstance(event, Mapping):
            yield RowProblem(source, f"event {position + 1} is not a JSON object")
            continue
        yield from _EventReader(event, source, lines, feed_name, skipped).items()


_EVENT_START = re.compile(rb'^\s*[\[{]\s*(?:"response"\s*:\s*\[\s*\{\s*)?\{?\s*"Event"\s*:\s*\{')
_EVENT_KEY = re.compile(rb'"Event"\s*:\s*\{')
_BARE_EVENT = re.compile(rb'"Attribute"\s*:\s*\[')
_ATTRIBUTE_FIELDS = re.compile(rb'"to_ids"\s*:')


def without_bom(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf")


class MispEventFormat:
    name = "misp-event"
    title = "MISP event (JSON export)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        head = without_bom(head)
        if _EVENT_START.match(head):
            return 0.95
        if head.lstrip().startswith((b"{", b"[")) and _EVENT_KEY.search(head):
            return 0.85
        if head.lstrip().startswith(b"{") and _BARE_EVENT.search(head):
            return 0.8 if _ATTRIBUTE_FIELDS.search(head) else 0.0
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        data, lines = load_json(document.path, document.name)
        skipped = SkippedTypes()
        yield from read_events(data, document.name, lines, self.name, skipped)
        yield from skipped.problems()


FORMAT = MispEventFormat()
