"""Validating registry records: each spreadsheet row becomes a typed row or located problems."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import idna

from garrison.core.errors import RowProblem
from garrison.core.tabular import Record, normalise_header
from garrison.orgs.addresses import AddressError, ParsedNetwork, parse_address, parse_network

_LIST_SEPARATORS = re.compile(r"[,;\s]+")
_PHONE_SEPARATORS = re.compile(r"[,;/\n]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROMAN_LEVELS = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_TRUE = {"x", "co", "yes", "y", "true", "1", "dung", "public"}
_FALSE = {"", "khong", "no", "n", "false", "0", "sai"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S")
# Limits are the widths of the database columns: what validation accepts, every database stores.
MAX_TEXT = {
    "name": 300,
    "short_name": 60,
    "role": 200,
    "kind": 60,
    "operating_system": 200,
    "email": 320,
    "cpe": 500,
    "purl": 500,
    "vendor": 200,
    "product": 200,
    "version": 100,
}
CONTACT_NAME_MAX = 200
COMPONENT_REF_MAX = 500
_CPE_ESCAPE = re.compile(r"\\.")


class RowInvalid(Exception):
    """Raised inside a row parser; becomes a RowProblem with the record's location."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field_name = field_name
        self.reason = reason


@dataclass(frozen=True)
class OrganisationRow:
    record: Record
    name: str
    short_name: str | None
    kind: str
    parent: str | None
    notes: str | None


@dataclass(frozen=True)
class ContactRow:
    record: Record
    organisation: str
    name: str
    role: str | None
    email: str | None
    phones: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class NetworkRow:
    record: Record
    organisation: str
    network: ParsedNetwork
    description: str | None


@dataclass(frozen=True)
class DomainRow:
    record: Record
    organisation: str
    domain: str


@dataclass(frozen=True)
class AssetRow:
    record: Record
    organisation: str
    name: str
    kind: str | None
    addresses: tuple[str, ...]
    hostnames: tuple[str, ...]
    operating_system: str | None
    security_level: int | None
    level_approved_on: date | None
    internet_facing: bool
    notes: str | None


@dataclass(frozen=True)
class ComponentRow:
    record: Record
    organisation: str
    asset: str
    ref: str
    cpe: str | None
    purl: str | None
    vendor: str | None
    product: str | None
    version: str | None


RegistryRow = OrganisationRow | ContactRow | NetworkRow | DomainRow | AssetRow | ComponentRow


def collapse_spaces(text: str) -> str:
    return " ".join(text.split())


FREE_TEXT = {"notes", "description"}


def _text(
    record: Record, field_name: str, *, required: bool = False, limit: int | None = None
) -> str | None:
    raw = record.get(field_name)
    value = raw.strip() if field_name in FREE_TEXT else collapse_spaces(raw)
    if not value:
        if required:
            raise RowInvalid(field_name, "a value is required")
        return None
    limit = limit or MAX_TEXT.get(field_name, 2000)
    if len(value) > limit:
        raise RowInvalid(field_name, f"longer than {limit} characters")
    return value


def _required(record: Record, field_name: str, *, limit: int | None = None) -> str:
    value = _text(record, field_name, required=True, limit=limit)
    assert value is not None
    return value


def normalise_domain(text: str) -> str:
    """Lower-case ASCII (punycode) form of a domain; Vietnamese IDNs are accepted."""
    value = text.strip().rstrip(".").lower()
    if "://" in value or "/" in value or "@" in value or " " in value:
        raise ValueError(f"{text!r} is not a bare domain name (no scheme, path or spaces)")
    if "." not in value:
        raise ValueError(f"{text!r} has no dot; give a full domain such as sonla.gov.vn")
    try:
        return idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{text!r} is not a valid domain name ({exc})") from None


def _security_level(record: Record) -> int | None:
    raw = record.get("security_level")
    plain = normalise_header(raw).removeprefix("cap do").removeprefix("cap").strip()
    if not plain:
        return None
    level = _ROMAN_LEVELS.get(plain) or (int(plain) if plain.isdigit() and len(plain) < 4 else None)
    if level is None or not 1 <= level <= 5:
        raise RowInvalid("security_level", f"{raw!r} is not a security level 1–5 (Decree 85/2016)")
    return level


def parse_date(raw: str) -> date:
    text = raw.strip()
    if len(text) == 10 and text[4] == "-":
        try:
            return date.fromisoformat(text)  # the common case, far cheaper than strptime
        except ValueError:
            pass
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(raw.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{raw!r} is not a date (use dd/mm/yyyy or yyyy-mm-dd)")


def _date(record: Record, field_name: str) -> date | None:
    raw = record.get(field_name)
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise RowInvalid(field_name, str(exc)) from None


def _flag(record: Record, field_name: str) -> bool:
    raw = record.get(field_name)
    plain = normalise_header(raw)
    if plain in _TRUE:
        return True
    if plain in _FALSE:
        return False
    raise RowInvalid(field_name, f"{raw!r} is not yes/no (có/không, x or empty)")


def _addresses(record: Record) -> tuple[str, ...]:
    found: list[str] = []
    for part in _LIST_SEPARATORS.split(record.get("addresses")):
        if not part:
            continue
        try:
            address = str(parse_address(part))
        except AddressError as exc:
            raise RowInvalid("addresses", str(exc)) from None
        if address not in found:
            found.append(address)
    return tuple(found)


_HOST_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_PLAIN_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_WINDOWS_HOSTNAME = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")


def _hostname(text: str) -> str:
    """A DNS or IDN host name in ASCII; NetBIOS-style names with '_' (Windows) are kept too."""
    plain = text.rstrip(".").lower()
    if "xn--" not in plain and _PLAIN_HOSTNAME.match(plain):
        return plain  # plain ASCII LDH names need no IDNA processing
    try:
        return idna.encode(plain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        if _WINDOWS_HOSTNAME.match(plain) and len(plain) <= 253:
            return plain
        raise RowInvalid("hostnames", f"{text!r} is not a host name ({exc})") from None


def _hostnames(record: Record) -> tuple[str, ...]:
    found: list[str] = []
    for part in _LIST_SEPARATORS.split(record.get("hostnames")):
        if not part:
            continue
        hostname = _hostname(part)
        if hostname not in found:
            found.append(hostname)
    return tuple(found)


def _organisation(record: Record) -> OrganisationRow:
    return OrganisationRow(
        record,
        _required(record, "name"),
        _text(record, "short_name"),
        _required(record, "kind"),
        _text(record, "parent"),
        _text(record, "notes"),
    )


def _contact(record: Record) -> ContactRow:
    email = _text(record, "email")
    if email is not None:
        email = email.lower()
        if not _EMAIL.match(email):
            raise RowInvalid("email", f"{email!r} is not an e-mail address")
    phones = tuple(p.strip() for p in _PHONE_SEPARATORS.split(record.get("phones")) if p.strip())
    language = normalise_header(record.get("language")) or "vi"
    language = {"tieng viet": "vi", "vietnamese": "vi", "english": "en", "tieng anh": "en"}.get(
        language, language
    )
    if language not in ("vi", "en"):
        raise RowInvalid("language", f"{record.get('language')!r} is not vi or en")
    return ContactRow(
        record,
        _required(record, "organisation"),
        _required(record, "name", limit=CONTACT_NAME_MAX),
        _text(record, "role"),
        email,
        phones,
        language,
    )


def _network(record: Record) -> NetworkRow:
    try:
        network = parse_network(_required(record, "network"))
    except AddressError as exc:
        raise RowInvalid("network", str(exc)) from None
    return NetworkRow(
        record, _required(record, "organisation"), network, _text(record, "description")
    )


def _domain(record: Record) -> DomainRow:
    try:
        domain = normalise_domain(_required(record, "domain"))
    except ValueError as exc:
        raise RowInvalid("domain", str(exc)) from None
    return DomainRow(record, _required(record, "organisation"), domain)


def _asset(record: Record) -> AssetRow:
    level = _security_level(record)
    approved = _date(record, "level_approved_on")
    if approved is not None and level is None:
        raise RowInvalid("level_approved_on", "an approval date needs a security level")
    return AssetRow(
        record,
        _required(record, "organisation"),
        _required(record, "name"),
        _text(record, "kind"),
        _addresses(record),
        _hostnames(record),
        _text(record, "operating_system"),
        level,
        approved,
        _flag(record, "internet_facing"),
        _text(record, "notes"),
    )


def component_ref(
    cpe: str | None, purl: str | None, vendor: str | None, product: str | None, version: str | None
) -> str:
    """How a component is told apart on its asset: its CPE, else its purl, else v/p/v."""
    if cpe:
        return cpe
    if purl:
        return purl
    return "/".join(part or "" for part in (vendor, product, version))


def _component(record: Record) -> ComponentRow:
    cpe, purl = _text(record, "cpe"), _text(record, "purl")
    vendor, product, version = (
        _text(record, "vendor"),
        _text(record, "product"),
        _text(record, "version"),
    )
    # A colon escaped inside a field (backslash, colon) does not separate fields.
    if cpe is not None and not (
        cpe.startswith("cpe:2.3:") and len(_CPE_ESCAPE.sub("_", cpe).split(":")) == 13
    ):
        raise RowInvalid(
            "cpe", f"{cpe!r} is not a CPE 2.3 name (cpe:2.3:part:vendor:product:…, 13 fields)"
        )
    if purl is not None and not re.match(r"^pkg:[a-z0-9.+-]+/", purl):
        raise RowInvalid("purl", f"{purl!r} is not a package URL (pkg:type/name@version)")
    if not (cpe or purl or product):
        raise RowInvalid("product", "give a CPE, a purl or at least a product name")
    ref = component_ref(cpe, purl, vendor, product, version)
    if len(ref) > COMPONENT_REF_MAX:
        raise RowInvalid(
            "product", f"vendor/product/version together longer than {COMPONENT_REF_MAX} characters"
        )
    return ComponentRow(
        record,
        _required(record, "organisation"),
        _required(record, "asset"),
        ref,
        cpe,
        purl,
        vendor,
        product,
        version,
    )


ROW_PARSERS: dict[str, Callable[[Record], RegistryRow]] = {
    "organisations": _organisation,
    "contacts": _contact,
    "networks": _network,
    "domains": _domain,
    "assets": _asset,
    "components": _component,
}


def parse_record(table: str, record: Record) -> RegistryRow | RowProblem:
    """The typed row, or the problem naming where and why it is wrong."""
    try:
        return ROW_PARSERS[table](record)
    except RowInvalid as invalid:
        return record.problem(invalid.field_name, invalid.reason)
