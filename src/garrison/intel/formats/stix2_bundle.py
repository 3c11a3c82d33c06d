"""STIX 2.1 bundles: indicator patterns, observed SCOs and sightings become events.

Every object is validated on its own with the `stix2` library (`stix2.parse(object,
allow_custom=True)`), so one bad object is a RowProblem naming its id and the field, and the
rest of the bundle still imports; only a document that is not a bundle is rejected whole.
Indicator patterns are read with the STIX pattern grammar (the library's pattern visitor):
each supported comparison is one event, comparisons that must hold together (AND,
FOLLOWEDBY) share `extra.pattern_group`, and each unsupported comparison or qualifier is a
RowProblem while the supported ones of the same pattern still come through.

TAXII polling feeds the objects of its envelopes through the same mapping (`stix_items`).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2  # type: ignore[import-untyped]
from stix2 import patterns as stix_patterns
from stix2.pattern_visitor import create_pattern_object  # type: ignore[import-untyped]

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._json_document import IdentifierLines, load_json
from garrison.intel.types import IndicatorType, Tlp

FEED_NAME = "stix2"

TLP_MARKINGS: Mapping[str, Tlp] = {
    # TLP 1.0, predefined by STIX 2.1
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
    # TLP 2.0, published by OASIS in cti-stix-common-objects
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}
"""The standard TLP markings, which bundles reference without including."""

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

_HASHES = {"MD5": IndicatorType.MD5, "SHA1": IndicatorType.SHA1, "SHA256": IndicatorType.SHA256}
_NETWORK = {
    4: (IndicatorType.IPV4, IndicatorType.CIDR4),
    6: (IndicatorType.IPV6, IndicatorType.CIDR6),
}
_VALUE_PATHS: Mapping[tuple[str, str], IndicatorType] = {
    ("domain-name", "value"): IndicatorType.DOMAIN,
    ("url", "value"): IndicatorType.URL,
    ("email-addr", "value"): IndicatorType.EMAIL,
    ("file", "name"): IndicatorType.FILENAME,
    ("autonomous-system", "number"): IndicatorType.ASN,
}
_SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip
_ACTOR_TYPES = frozenset({"threat-actor", "intrusion-set", "campaign"})

_INFRASTRUCTURE_CLASSES: Mapping[str, tuple[str, str]] = {
    "command-and-control": ("malicious-code", "c2-server"),
    "botnet": ("malicious-code", "infected-system"),
    "hosting-malware": ("malicious-code", "malware-distribution"),
    "hosting-target-lists": ("malicious-code", "malware-configuration"),
    "phishing": ("fraud", "phishing"),
    "exfiltration": ("information-content-security", "data-exfiltration"),
    "reconnaissance": ("information-gathering", "scanner"),
    "amplification": ("vulnerable", "ddos-amplifier"),
}
"""STIX infrastructure types (and the labels feeds put on infrastructure) → RSIT."""

_MALWARE_ROLE: Mapping[IndicatorType, str] = {
    IndicatorType.URL: "malware-distribution",
    IndicatorType.DOMAIN: "c2-server",
    IndicatorType.IPV4: "c2-server",
    IndicatorType.IPV6: "c2-server",
    IndicatorType.CIDR4: "c2-server",
    IndicatorType.CIDR6: "c2-server",
}
"""What a network indicator of a malware family is, when the bundle says no more: a URL
serves the malware, an address or domain is where it calls home. Hashes stay untyped."""

_MESSAGE_LIMIT = 300


class InvalidPattern(ValueError):
    """A pattern the STIX pattern grammar rejects; the message says where."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """One supported comparison of a pattern: an indicator value."""

    kind: IndicatorType
    value: str
    text: str


@dataclass(slots=True)
class PatternTerms:
    """A pattern read into groups of comparisons that must hold together (one group per
    OR-ed branch) and the reasons for every part that could not be used."""

    groups: list[list[Comparison]] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def read_pattern(pattern: str, version: str = "2.1") -> PatternTerms:
    """The comparisons of a STIX pattern; InvalidPattern when it does not parse."""
    try:
        tree = create_pattern_object(pattern, version=version)
        terms = PatternTerms()
        for branch in _or_branches(tree, terms):
            group: list[Comparison] = []
            for leaf in _leaves(branch, terms):
                found = _comparisons(leaf)
                if isinstance(found, str):
                    terms.unsupported.append(found)
                else:
                    group.extend(found)
            if group:
                terms.groups.append(group)
    except Exception as exc:  # the grammar's, ANTLR's and the library's errors alike
        raise InvalidPattern(_shorten(str(exc)) or type(exc).__name__) from None
    return terms


def _qualifier(node: Any, terms: PatternTerms) -> Any:
    terms.unsupported.append(
        f"unsupported: qualifier {node.qualifier} (the comparisons it qualifies are "
        "imported without it)"
    )
    return node.observation_expression


def _or_branches(node: Any, terms: PatternTerms) -> list[Any]:
    if isinstance(node, stix_patterns.OrObservationExpression | stix_patterns.OrBooleanExpression):
        return [branch for operand in node.operands for branch in _or_branches(operand, terms)]
    if isinstance(node, stix_patterns.ParentheticalExpression):
        return _or_branches(node.expression, terms)
    if isinstance(node, stix_patterns.ObservationExpression):
        return _or_branches(node.operand, terms)
    if isinstance(node, stix_patterns.QualifiedObservationExpression):
        return _or_branches(_qualifier(node, terms), terms)
    return [node]


def _leaves(node: Any, terms: PatternTerms) -> list[Any]:
    if isinstance(
        node, stix_patterns._BooleanExpression | stix_patterns._CompoundObservationExpression
    ):
        return [leaf for operand in node.operands for leaf in _leaves(operand, terms)]
    if isinstance(node, stix_patterns.ParentheticalExpression):
        return _leaves(node.expression, terms)
    if isinstance(node, stix_patterns.ObservationExpression):
        return _leaves(node.operand, terms)
    if isinstance(node, stix_patterns.QualifiedObservationExpression):
        return _leaves(_qualifier(node, terms), terms)
    return [node]


_ESCAPE = re.compile(r"\\(.)")


def _constant_text(constant: Any) -> str | None:
    if isinstance(constant, stix_patterns.StringConstant):
        return _ESCAPE.sub(r"\1", str(constant.value))
    if isinstance(constant, stix_patterns.IntegerConstant):
        return str(constant.value)
    return None


def _comparisons(leaf: Any) -> list[Comparison] | str:
    """The values a comparison names, or why it cannot be used."""
    text = str(leaf)
    path = leaf.lhs
    names = [getattr(part, "property_name", None) for part in path.property_path]
    if not all(type(part) is stix_patterns.BasicObjectPathComponent for part in path.property_path):
        return f"unsupported: {text} (object path {path} is not a simple property)"
    object_type = path.object_type_name
    kind: IndicatorType | None = None
    version = {"ipv4-addr": 4, "ipv6-addr": 6}.get(object_type)
    if version is not None and names == ["value"]:
        kind = _NETWORK[version][0]
    elif object_type == "file" and len(names) == 2 and names[0] == "hashes":
        kind = _HASHES.get(str(names[1]).upper().replace("-", ""))
    elif len(names) == 1:
        kind = _VALUE_PATHS.get((object_type, str(names[0])))
    if kind is None:
        return f"unsupported: {text} (no indicator type for {path})"
    subset = isinstance(leaf, stix_patterns.IsSubsetComparisonExpression) and version is not None
    if leaf.negated or not (
        subset
        or isinstance(
            leaf,
            stix_patterns.EqualityComparisonExpression | stix_patterns.InComparisonExpression,
        )
    ):
        operator = f"NOT {leaf.operator}" if leaf.negated else leaf.operator
        return f"unsupported: {text} (operator {operator})"
    constants = leaf.rhs.value if isinstance(leaf.rhs, stix_patterns.ListConstant) else [leaf.rhs]
    found: list[Comparison] = []
    for constant in constants:
        value = _constant_text(constant)
        if value is None:
            return f"unsupported: {text} (the value is not a string)"
        if not value.strip():
            return f"empty value: {text}"
        if version is not None and "/" in value:
            kind = _NETWORK[version][1]
        elif version is not None:
            kind = _NETWORK[version][0]
        found.append(Comparison(kind, value, text))
    return found


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    moment = aware.astimezone(UTC)
    return datetime(
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
        moment.microsecond, tzinfo=UTC,
    )  # fmt: skip


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


@dataclass(slots=True)
class _Entry:
    """One validated object: `obj` as the library read it (typed timestamps), `raw` as the
    feed wrote it."""

    raw: Mapping[str, Any]
    obj: Mapping[str, Any]
    line: int | None

    @property
    def id(self) -> str:
        return str(self.obj.get("id", ""))

    @property
    def type(self) -> str:
        kind = self.obj.get("type")
        return kind if isinstance(kind, str) else ""

    def label(self) -> str:
        return self.id or self.type or "object"


@dataclass(slots=True)
class _Context:
    """What the bundle says around an indicator or SCO: malware, infrastructure, actors."""

    malware: list[str] = field(default_factory=list)
    infrastructure: list[Mapping[str, Any]] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)


class _Bundle:
    """The validated objects of one bundle and the links between them."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.by_id = {entry.id: entry for entry in entries}
        self.links: defaultdict[str, dict[str, None]] = defaultdict(dict)
        self.sightings: defaultdict[str, list[_Entry]] = defaultdict(list)
        self.containers: defaultdict[str, list[_Entry]] = defaultdict(list)
        for entry in entries:
            obj = entry.obj
            if entry.type == "relationship":
                self._link(obj.get("source_ref"), obj.get("target_ref"))
            elif entry.type == "sighting":
                target = obj.get("sighting_of_ref")
                if isinstance(target, str):
                    self.sightings[target].append(entry)
                for ref in _strings(obj.get("observed_data_refs")):
                    self._link(target, ref)
            elif entry.type == "observed-data":
                for ref in _strings(obj.get("object_refs")):
                    self._link(entry.id, ref)
                    self.containers[ref].append(entry)

    def _link(self, one: object, other: object) -> None:
        if isinstance(one, str) and isinstance(other, str):
            self.links[one][other] = None
            self.links[other][one] = None

    def context(self, start: str) -> _Context:
        """Malware, infrastructure and actors linked to `start`, directly or through
        infrastructure and observed-data (a C2 address → its infrastructure → the malware
        it controls)."""
        found = _Context()
        seen = {start}
        frontier = [start]
        for _ in range(3):
            ahead: list[str] = []
            for node in frontier:
                for other in self.links.get(node, {}):
                    entry = self.by_id.get(other)
                    if other in seen or entry is None:
                        continue
                    seen.add(other)
                    name = entry.obj.get("name")
                    if entry.type == "malware" and isinstance(name, str) and name.strip():
                        found.malware.append(name.strip().lower())
                    elif entry.type == "infrastructure":
                        found.infrastructure.append(entry.obj)
                        ahead.append(other)
                    elif entry.type == "observed-data":
                        ahead.append(other)
                    elif entry.type in _ACTOR_TYPES and isinstance(name, str):
                        found.actors.append(name)
            frontier = ahead
        return found

    def marking_tlp(self, ref: str) -> Tlp | None:
        if ref in TLP_MARKINGS:
            return TLP_MARKINGS[ref]
        entry = self.by_id.get(ref)
        if entry is None or entry.type != "marking-definition":
            return None
        obj = entry.obj
        definition = obj.get("definition")
        extension = (obj.get("extensions") or {}).get(TLP2_EXTENSION)
        for candidate in (
            definition.get("tlp") if obj.get("definition_type") == "tlp" and definition else None,
            extension.get("tlp_2_0") if isinstance(extension, Mapping) else None,
            obj.get("name"),
        ):
            if isinstance(candidate, str):
                try:
                    return Tlp.parse(candidate)
                except ValueError:
                    continue
        return None

    def tlp(self, *objects: Mapping[str, Any]) -> Tlp | None:
        """The most restrictive TLP among the objects' object and granular markings; a
        granular marking counts for the whole object, which errs on the safe side."""
        found: Tlp | None = None
        for obj in objects:
            refs = _strings(obj.get("object_marking_refs"))
            for marking in obj.get("granular_markings") or ():
                if isinstance(marking, Mapping):
                    refs.extend(_strings(marking.get("marking_ref")))
            for ref in refs:
                tlp = self.marking_tlp(ref)
                if tlp is not None:
                    found = tlp if found is None else found.most_restrictive(tlp)
        return found

    def creator(self, obj: Mapping[str, Any]) -> str | None:
        identity = self.by_id.get(str(obj.get("created_by_ref", "")))
        name = identity.obj.get("name") if identity else None
        return name if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class _Sightings:
    """All the sightings of one indicator in the bundle, summed up."""

    count: int
    first_seen: datetime | None
    last_seen: datetime | None

    def summary(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
        }


def _classification(
    kind: IndicatorType, context: _Context, indicator_types: list[str]
) -> tuple[str | None, str | None]:
    for infrastructure in context.infrastructure:
        for label in _strings(infrastructure.get("infrastructure_types")) + _strings(
            infrastructure.get("labels")
        ):
            if label in _INFRASTRUCTURE_CLASSES:
                return _INFRASTRUCTURE_CLASSES[label]
    if "compromise" in indicator_types:
        return "intrusions", "system-compromise"
    if context.malware:
        return "malicious-code", _MALWARE_ROLE.get(kind)
    if "anomalous-activity" in indicator_types:
        return "other", "undetermined"
    return None, None


class _Mapper:
    """Turns the validated objects of one bundle into events and problems."""

    def __init__(self, bundle: _Bundle, source: str, version: str) -> None:
        self.bundle = bundle
        self.source = source
        self.version = version

    def problem(self, entry: _Entry, reason: str, column: str | None = None) -> RowProblem:
        return RowProblem(self.source, f"{entry.label()}: {reason}", row=entry.line, column=column)

    def event(
        self,
        entry: _Entry,
        kind: IndicatorType,
        value: str,
        context: _Context,
        indicator_types: list[str],
        **fields: Any,
    ) -> IntelEvent:
        taxonomy, classification = _classification(kind, context, indicator_types)
        extra: dict[str, Any] = {"stix_id": entry.id, **fields.pop("extra", {})}
        if len(context.malware) > 1:
            extra["malware_names"] = list(dict.fromkeys(context.malware))
        if context.actors:
            extra["attributed_to"] = list(dict.fromkeys(context.actors))
        names = [str(item.get("name")) for item in context.infrastructure if item.get("name")]
        if names:
            extra["infrastructure"] = names
        creator = self.bundle.creator(entry.obj)
        if creator:
            extra["created_by"] = creator
        return IntelEvent(
            indicator_type=kind,
            value=value,
            feed_name=FEED_NAME,
            line=entry.line,
            classification_taxonomy=taxonomy,
            classification_type=classification,
            malware_name=context.malware[0] if context.malware else None,
            extra=extra,
            raw=json.dumps(entry.raw, ensure_ascii=False),
            **fields,
        )

    def indicator(self, entry: _Entry) -> Iterator[ParsedItem]:
        obj = entry.obj
        pattern_type = obj.get("pattern_type", "stix")
        if pattern_type != "stix":
            yield self.problem(
                entry, f"pattern_type {pattern_type!r} is not supported (only STIX patterns)",
                "pattern_type",
            )  # fmt: skip
            return
        pattern = str(obj.get("pattern", ""))
        try:
            terms = read_pattern(pattern, self.version)
        except InvalidPattern as exc:
            yield self.problem(entry, _shorten(f"invalid pattern {pattern!r}: {exc}"), "pattern")
            return
        for reason in terms.unsupported:
            yield self.problem(entry, reason, "pattern")
        context = self.bundle.context(entry.id)
        indicator_types = _strings(obj.get("indicator_types")) + _strings(obj.get("labels"))
        sightings = self.sightings(entry.id)
        confidence = obj.get("confidence")
        tlp = self.bundle.tlp(obj)
        for number, group in enumerate(terms.groups, 1):
            for comparison in group:
                extra: dict[str, Any] = {"pattern": pattern, "comparison": comparison.text}
                if len(group) > 1:
                    extra["pattern_group"] = f"{entry.id}#{number}"
                if sightings:
                    extra["sightings"] = sightings.summary()
                yield self.event(
                    entry,
                    comparison.kind,
                    comparison.value,
                    context,
                    indicator_types,
                    time_source=_utc(obj.get("valid_from")),
                    expires_at=_utc(obj.get("valid_until")),
                    last_seen=sightings.last_seen if sightings else None,
                    count=sightings.count if sightings else None,
                    confidence=confidence if isinstance(confidence, int) else None,
                    tlp=tlp,
                    tags=tuple(dict.fromkeys(indicator_types)),
                    description=_description(obj),
                    extra=extra,
                )

    def sightings(self, target: str) -> _Sightings | None:
        found = self.bundle.sightings.get(target)
        if not found:
            return None
        counts = [item.obj.get("count", 1) for item in found]
        firsts = [t for item in found if (t := _utc(item.obj.get("first_seen")))]
        lasts = [t for item in found if (t := _utc(item.obj.get("last_seen")))]
        return _Sightings(
            sum(count if isinstance(count, int) else 1 for count in counts),
            min(firsts) if firsts else None,
            max(lasts) if lasts else None,
        )

    def observable(
        self, entry: _Entry, sco: Mapping[str, Any], containers: list[_Entry]
    ) -> Iterator[IntelEvent] | None:
        """Events for an SCO, or None when Garrison has no indicator type for it."""
        found = _sco_values(sco)
        if not found:
            return None
        context = self.bundle.context(entry.id)
        firsts = [t for item in containers if (t := _utc(item.obj.get("first_observed")))]
        lasts = [t for item in containers if (t := _utc(item.obj.get("last_observed")))]
        counts = [item.obj.get("number_observed") for item in containers]
        observed = [item.id for item in containers if item.id != entry.id]
        tlp = self.bundle.tlp(sco, *(item.obj for item in containers))

        def events() -> Iterator[IntelEvent]:
            for kind, value, extra in found:
                if observed:
                    extra["observed_data"] = observed
                yield self.event(
                    entry,
                    kind,
                    value,
                    context,
                    [],
                    time_source=min(firsts) if firsts else None,
                    last_seen=max(lasts) if lasts else None,
                    count=sum(c for c in counts if isinstance(c, int)) or None,
                    tlp=tlp,
                    extra=extra,
                )

        return events()


def _description(obj: Mapping[str, Any]) -> str | None:
    for key in ("name", "description"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _address_kind(sco_type: str, value: str) -> IndicatorType:
    pair = _NETWORK[4 if sco_type == "ipv4-addr" else 6]
    return pair[1] if "/" in value else pair[0]


def _sco_values(sco: Mapping[str, Any]) -> list[tuple[IndicatorType, str, dict[str, Any]]]:
    """(type, value, extra) for each indicator an SCO carries. A file gives its MD5, SHA-1
    and SHA-256 (with its name in extra); its name alone only when it has none of those."""
    sco_type = sco.get("type")
    value = sco.get("value")
    if isinstance(value, str) and not value.strip():
        return []
    if sco_type in ("ipv4-addr", "ipv6-addr") and isinstance(value, str):
        return [(_address_kind(sco_type, value), value, {})]
    if isinstance(sco_type, str) and (sco_type, "value") in _VALUE_PATHS and value is not None:
        return [(_VALUE_PATHS[sco_type, "value"], str(value), {})]
    if sco_type == "autonomous-system" and isinstance(sco.get("number"), int):
        name = sco.get("name")
        return [(IndicatorType.ASN, str(sco["number"]), {"as_name": name} if name else {})]
    if sco_type != "file":
        return []
    name = sco.get("name")
    hashes = sco.get("hashes") or {}
    found: list[tuple[IndicatorType, str, dict[str, Any]]] = []
    for algorithm, digest in hashes.items():
        kind = _HASHES.get(str(algorithm).upper().replace("-", ""))
        if kind is not None and isinstance(digest, str) and digest.strip():
            found.append((kind, digest, {"filename": name} if isinstance(name, str) else {}))
    if not found and isinstance(name, str) and name.strip():
        found.append((IndicatorType.FILENAME, name, {}))
    return found


def _modified(obj: Mapping[str, Any]) -> datetime:
    return _utc(obj.get("modified")) or datetime.min.replace(tzinfo=UTC)


def _validated(
    objects: Iterable[object], source: str, lines: IdentifierLines | None, version: str
) -> Iterator[_Entry | RowProblem]:
    """Each object checked by the `stix2` library; a bad one becomes a problem."""
    for position, raw in enumerate(objects):
        if not isinstance(raw, dict):
            yield RowProblem(
                source, f"objects[{position}] is {type(raw).__name__}, not a STIX object"
            )
            continue
        line = lines.take(raw.get("id")) if lines else None
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"objects[{position}]"
        try:
            parsed = stix2.parse(raw, allow_custom=True, version=version)
        except Exception as exc:  # the library raises many kinds; any of them rejects the object
            column = getattr(exc, "prop_name", None)
            reason = _shorten(str(exc)) or type(exc).__name__
            yield RowProblem(source, f"{label}: {reason}", row=line, column=column)
            continue
        if not isinstance(parsed, Mapping):
            yield RowProblem(source, f"{label}: not a STIX object", row=line)
            continue
        yield _Entry(raw, parsed, line)


def stix_items(
    objects: Iterable[object],
    *,
    source: str,
    lines: IdentifierLines | None = None,
    version: str = "2.1",
) -> Iterator[ParsedItem]:
    """Events and problems for a bundle's objects (or a TAXII envelope's); `source` names
    the file or URL in problems. The objects are read whole first: relationships,
    markings and sightings may come before or after the objects they refer to."""
    latest: dict[str, _Entry] = {}
    for item in _validated(objects, source, lines, version):
        if isinstance(item, RowProblem):
            yield item
            continue
        current = latest.get(item.id)
        if current is None or _modified(item.obj) > _modified(current.obj):
            latest[item.id] = item
    entries = [entry for entry in latest.values() if entry.obj.get("revoked") is not True]
    bundle = _Bundle(entries)
    mapper = _Mapper(bundle, source, version)
    skipped: Counter[str] = Counter()
    skipped_line: dict[str, int | None] = {}
    for entry in entries:
        observables: list[tuple[Mapping[str, Any], list[_Entry]]] = []
        if entry.type == "indicator":
            yield from mapper.indicator(entry)
        elif entry.type == "observed-data":
            embedded = entry.obj.get("objects") or {}
            observables = [(sco, [entry]) for sco in embedded.values() if isinstance(sco, Mapping)]
        elif entry.type in _SCO_TYPES:
            observables = [(entry.obj, bundle.containers.get(entry.id, []))]
        elif entry.type == "sighting":
            target = entry.obj.get("sighting_of_ref")
            if isinstance(target, str) and target not in bundle.by_id:
                yield mapper.problem(
                    entry, f"sighting of {target}, which is not in the bundle; not imported",
                    "sighting_of_ref",
                )  # fmt: skip
        for sco, containers in observables:
            events = mapper.observable(entry, sco, containers)
            if events is None:
                sco_type = str(sco.get("type"))
                skipped[sco_type] += 1
                skipped_line.setdefault(sco_type, entry.line)
            else:
                yield from events
    for sco_type, count in skipped.items():
        yield RowProblem(
            source,
            f"{count} {sco_type} object(s) not imported: Garrison has no indicator type for them",
            row=skipped_line[sco_type],
        )


def _bundle_version(data: object, name: str) -> tuple[list[object], str, list[RowProblem]]:
    """The bundle's objects and STIX version, and what is wrong with the bundle itself."""
    if not isinstance(data, dict):
        reason = f"is not a STIX bundle: the document is a JSON {type(data).__name__}"
        raise InputError([RowProblem(name, reason)])
    problems: list[RowProblem] = []
    if data.get("type") != "bundle":
        found = "has no" if "type" not in data else f"has {json.dumps(data['type'])} as"
        problems.append(
            RowProblem(name, f'is not a STIX bundle: it {found} "type" (must be "bundle")',
                       column="type")
        )  # fmt: skip
    objects = data.get("objects", [])
    if not isinstance(objects, list):
        problems.append(RowProblem(name, '"objects" is not a list', column="objects"))
        objects = []
    spec_version = data.get("spec_version")
    if spec_version not in (None, "2.0", "2.1"):
        problems.append(
            RowProblem(name, f"spec_version {spec_version!r} is not STIX 2.0 or 2.1",
                       column="spec_version")
        )  # fmt: skip
    return objects, "2.0" if spec_version == "2.0" else "2.1", problems


_BUNDLE_TYPE = re.compile(rb'"type"\s*:\s*"bundle"')
_BUNDLE_ID = re.compile(rb'"id"\s*:\s*"bundle--')
_OBJECTS = re.compile(rb'"objects"\s*:\s*\[')
_SPEC_VERSION = re.compile(rb'"spec_version"\s*:\s*"2\.[01]"')


class StixBundleFormat:
    name = "stix2"
    title = "STIX 2.1 bundle (JSON)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") or not _OBJECTS.search(head):
            return 0.0
        if _BUNDLE_TYPE.search(head):
            return 0.95
        if _BUNDLE_ID.search(head) or _SPEC_VERSION.search(head):
            return 0.8
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        data, lines = load_json(document.path, document.name)
        objects, version, problems = _bundle_version(data, document.name)
        if problems:
            problems.extend(
                item
                for item in _validated(objects, document.name, lines, version)
                if isinstance(item, RowProblem)
            )
            raise InputError(problems)
        yield from stix_items(objects, source=document.name, lines=lines, version=version)


FORMAT = StixBundleFormat()
