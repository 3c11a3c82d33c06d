"""MISP warninglist files: read, checked against the schema's essentials, and what they apply to.

A list is one JSON object (`name`, `version`, `description`, `type`, `list`, optional
`matching_attributes` and `category`). Lists are identified by name, as in MISP, so a list
loaded later (a user's) replaces an earlier one of the same name (a shared one). A malformed
file is skipped and reported; it never takes the other lists down with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from garrison.core.errors import InputError, RowProblem
from garrison.intel.types import IndicatorType

DEFAULT_CATEGORY = "false-positive"


class MatchType(StrEnum):
    """How a list's entries are compared with a value (MISP's `type`)."""

    STRING = "string"
    SUBSTRING = "substring"
    HOSTNAME = "hostname"
    CIDR = "cidr"
    REGEX = "regex"


_ADDRESSES = frozenset(
    {IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.CIDR4, IndicatorType.CIDR6}
)
_EMAIL = frozenset({IndicatorType.EMAIL})
_DOMAIN = frozenset({IndicatorType.DOMAIN})
_URL = frozenset({IndicatorType.URL})


def _with_filename(kind: IndicatorType) -> frozenset[IndicatorType]:
    return frozenset({IndicatorType.FILENAME, kind})


# MISP attribute types → our indicator types. Composite attributes ('domain|ip',
# 'filename|md5') are split by MISP before testing, so they apply to each part's type.
# Attribute types we do not store (sha224, ssdeep, …) apply to nothing.
ATTRIBUTE_TYPES: dict[str, frozenset[IndicatorType]] = {
    "ip-src": _ADDRESSES,
    "ip-dst": _ADDRESSES,
    "ip-src|port": _ADDRESSES,
    "ip-dst|port": _ADDRESSES,
    "domain|ip": _ADDRESSES | _DOMAIN,
    "domain": _DOMAIN,
    "hostname": _DOMAIN,
    "hostname|port": _DOMAIN,
    "url": _URL,
    "uri": _URL,
    "link": _URL,
    "email": _EMAIL,
    "email-src": _EMAIL,
    "email-dst": _EMAIL,
    "email-reply-to": _EMAIL,
    "target-email": _EMAIL,
    "whois-registrant-email": _EMAIL,
    "dns-soa-email": _EMAIL,
    "md5": frozenset({IndicatorType.MD5}),
    "sha1": frozenset({IndicatorType.SHA1}),
    "sha256": frozenset({IndicatorType.SHA256}),
    "filename|md5": _with_filename(IndicatorType.MD5),
    "filename|sha1": _with_filename(IndicatorType.SHA1),
    "filename|sha256": _with_filename(IndicatorType.SHA256),
    "filename": frozenset({IndicatorType.FILENAME}),
    "as": frozenset({IndicatorType.ASN}),
    "phone-number": frozenset({IndicatorType.PHONE}),
    "whois-registrant-phone": frozenset({IndicatorType.PHONE}),
}


@dataclass(frozen=True)
class Warninglist:
    """One loaded list; `source` is the file it came from, for error messages."""

    name: str
    version: int
    description: str
    type: MatchType
    entries: tuple[str, ...]
    matching_attributes: tuple[str, ...] = ()
    category: str = DEFAULT_CATEGORY
    source: str = ""

    @property
    def indicator_types(self) -> frozenset[IndicatorType]:
        """The indicator types this list is tested against; a list without
        matching_attributes applies to every type (MISP's rule)."""
        if not self.matching_attributes:
            return frozenset(IndicatorType)
        kinds: set[IndicatorType] = set()
        for attribute in self.matching_attributes:
            kinds |= ATTRIBUTE_TYPES.get(attribute.strip().lower(), frozenset())
        return frozenset(kinds)


class WarninglistHit(NamedTuple):
    """A value is on a list: which list (name, version, category) and which entry matched.
    A named tuple: an index of 60,000 entries creates and hashes one per entry, and hits
    sort by list name, then entry."""

    name: str
    version: int
    category: str
    entry: str

    @classmethod
    def of(cls, warninglist: Warninglist, entry: str) -> WarninglistHit:
        return cls(warninglist.name, warninglist.version, warninglist.category, entry)


@dataclass(frozen=True)
class LoadedWarninglists:
    """Every list that loaded, and a problem for every file that did not."""

    lists: tuple[Warninglist, ...]
    problems: tuple[RowProblem, ...] = ()


@dataclass
class _Checker:
    """Collects every schema problem of one file before deciding, so one error lists them all."""

    source: str
    problems: list[RowProblem]

    def problem(self, field: str | None, reason: str, position: int | None = None) -> None:
        self.problems.append(RowProblem(self.source, reason, row=position, column=field))

    def strings(self, document: dict[str, Any], field: str) -> tuple[str, ...]:
        """An array of strings, duplicates dropped; () when absent or malformed."""
        value = document.get(field, [])
        if not isinstance(value, list):
            self.problem(field, "must be an array of strings")
            return ()
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str):
                kind = type(item).__name__
                self.problem(field, f"item {position} is {kind}, not a string", position)
                return ()
        return tuple(dict.fromkeys(value))


def _parse(document: Any, source: str) -> Warninglist:
    check = _Checker(source, [])
    if not isinstance(document, dict):
        check.problem(None, f"a warninglist is a JSON object, not {type(document).__name__}")
        raise InputError(check.problems)
    for field in ("name", "version", "description", "type", "list"):
        if field not in document:
            check.problem(field, "required field is missing")
    for field in ("name", "description", "category"):
        if field in document and not isinstance(document[field], str):
            check.problem(field, "must be a string")
    name, version, kind = document.get("name"), document.get("version", 0), document.get("type")
    if isinstance(name, str) and not name.strip():
        check.problem("name", "must not be empty")
    if not isinstance(version, int) or isinstance(version, bool):
        check.problem("version", f"must be an integer, not {version!r}")
    if "type" in document and kind not in set(MatchType):
        choices = ", ".join(MatchType)
        check.problem("type", f"{kind!r} is not a warninglist type (one of {choices})")
    entries = check.strings(document, "list")
    attributes = check.strings(document, "matching_attributes")
    if check.problems:
        raise InputError(check.problems)
    return Warninglist(
        name=str(name).strip(),
        version=version,
        description=document["description"],
        type=MatchType(str(kind)),
        entries=entries,
        matching_attributes=attributes,
        category=document.get("category") or DEFAULT_CATEGORY,
        source=source,
    )


def read_warninglist(path: Path) -> Warninglist:
    """One list file; InputError names the file and the field (or JSON line) at fault."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([RowProblem(source, f"cannot read: {exc.strerror or exc}")]) from None
    try:
        document = json.loads(data)
    except UnicodeDecodeError as exc:
        raise InputError([RowProblem(source, f"not UTF-8 text: {exc.reason}")]) from None
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} (column {exc.colno})"
        raise InputError([RowProblem(source, reason, row=exc.lineno)]) from None
    except RecursionError:
        raise InputError([RowProblem(source, "JSON nested too deeply")]) from None
    return _parse(document, source)


def _list_files(source: Path) -> Iterator[Path]:
    """A file is one list; a folder holds lists anywhere below it (MISP's
    `lists/<name>/list.json` layout or plain `*.json`), except the schema."""
    if source.is_dir():
        found = sorted(p for p in source.rglob("*.json") if p.name != "schema.json")
        if not found:
            raise InputError([RowProblem(str(source), "folder holds no warninglist (*.json)")])
        yield from found
    elif source.exists():
        yield source
    else:
        raise InputError([RowProblem(str(source), "no such file or folder")])


def load_warninglists(sources: Iterable[Path]) -> LoadedWarninglists:
    """Every list from the given files and folders, in order; a later list replaces an
    earlier one of the same name. Broken files are skipped and listed in `problems`."""
    lists: dict[str, Warninglist] = {}
    problems: list[RowProblem] = []
    for source in sources:
        try:
            for path in _list_files(source):
                try:
                    warninglist = read_warninglist(path)
                except InputError as exc:
                    problems.extend(exc.problems)
                    continue
                lists.pop(warninglist.name, None)
                lists[warninglist.name] = warninglist
        except InputError as exc:
            problems.extend(exc.problems)
    return LoadedWarninglists(tuple(lists.values()), tuple(problems))
