"""Indicator values in one canonical spelling, so that the same thing is stored once.

Feeds write the same indicator many ways: defanged (`hxxp://evil[.]vn`), upper-case, with
Unicode domain names, uncompressed IPv6, CIDRs with host bits set. Everything that compares
indicators (the store, warninglists, attribution, hunting) sees the canonical form only.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import idna

from garrison.intel.phones import PhoneNumberError, normalise_phone
from garrison.intel.types import IndicatorType


class InvalidIndicator(ValueError):
    """A value that is not a valid indicator of the given type; the message says why."""


class IndicatorKey(NamedTuple):
    type: IndicatorType
    value: str


_REFANG_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^h(?:xx|\*\*)p(s?)(?=\[:\]//|://|\[://\])", re.IGNORECASE), r"http\1"),
    (re.compile(r"^fxp(?=\[:\]//|://|\[://\])", re.IGNORECASE), "ftp"),
    (re.compile(r"\[://\]"), "://"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*", re.IGNORECASE), "."),
    (re.compile(r"\s*[\[({]\s*(?:@|at)\s*[\])}]\s*", re.IGNORECASE), "@"),
    (re.compile(r"\\\."), "."),
)


def refang(text: str) -> str:
    """Undo the usual defanging: hxxp, [.], (dot), {.}, [at], [:], [://], backslash-dot."""
    value = text.strip()
    for pattern, replacement in _REFANG_PATTERNS:
        value = pattern.sub(replacement, value)
    return value


def _ip_address(text: str, version: int) -> str:
    if "%" in text:
        raise InvalidIndicator(f"{text!r} has an IPv6 zone id, meaningful on one host only")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidIndicator(f"{text!r} is not an IPv{version} address") from None
    if address.version != version:
        raise InvalidIndicator(f"{text!r} is an IPv{address.version} address, not IPv{version}")
    return address.compressed


def _network(text: str, version: int) -> IndicatorKey:
    if "/" not in text:
        return IndicatorKey(_address_type(version), _ip_address(text, version))
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidIndicator(
            f"{text!r} is not an IPv{version} network (address/prefix)"
        ) from None
    if network.version != version:
        raise InvalidIndicator(f"{text!r} is an IPv{network.version} network, not IPv{version}")
    if network.num_addresses == 1:
        return IndicatorKey(_address_type(version), network.network_address.compressed)
    return IndicatorKey(_cidr_type(version), network.compressed)


def _address_type(version: int) -> IndicatorType:
    return IndicatorType.IPV4 if version == 4 else IndicatorType.IPV6


def _cidr_type(version: int) -> IndicatorType:
    return IndicatorType.CIDR4 if version == 4 else IndicatorType.CIDR6


_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def normalise_domain(text: str) -> str:
    """Lower-case ASCII (punycode) form; 'Bộ-Y-Tế.VN.' → 'xn--b-y-t-...vn'."""
    value = refang(text).strip().rstrip(".").lower()
    if value.startswith("*."):
        value = value[2:]
    if not value or "." not in value:
        raise InvalidIndicator(f"{text!r} is not a domain name (it needs at least one dot)")
    if not value.isascii():
        try:
            value = idna.encode(value, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError as exc:
            reason = f"{text!r} is not a valid internationalised domain: {exc}"
            raise InvalidIndicator(reason) from None
    if len(value) > 253:
        raise InvalidIndicator(f"{text!r} is longer than 253 characters")
    labels = value.split(".")
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidIndicator(f"{text!r} has an invalid label {label!r}")
    if labels[-1].isdigit():
        raise InvalidIndicator(f"{text!r} ends in a numeric label: not a domain name")
    return value


_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SAFE_PATH = "/!$&'()*+,;=:@-._~%"
_SAFE_QUERY = "/?!$&'()*+,;=:@-._~%"


def _requote(part: str, safe: str) -> str:
    """Percent-encoding in one spelling: unreserved characters decoded, the rest upper-case."""
    return quote(unquote(part, errors="surrogateescape"), safe=safe, errors="surrogateescape")


def _dot_segments(path: str) -> str:
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    trailing = path.endswith(("/.", "/.."))
    return "/" + "/".join(segments) + ("/" if trailing and segments else "")


def normalise_url(text: str) -> str:
    """Canonical URL: refanged, scheme and host lower-case, host in punycode, default port
    and fragment dropped, dot segments resolved, percent-encoding in one spelling.
    A value without a scheme is taken as http (feeds often drop it)."""
    value = refang(text)
    if any(ch.isspace() for ch in value) or not value:
        raise InvalidIndicator(f"{text!r} is not a URL (it is empty or contains spaces)")
    if not _SCHEME.match(value):
        value = "http://" + value
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidIndicator(f"{text!r} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        raise InvalidIndicator(f"{text!r} is not a URL: it has no host")
    if host.startswith("[") or ":" in host:
        host = "[" + _ip_address(host.strip("[]"), 6) + "]"
    else:
        try:
            host = ipaddress.IPv4Address(host).compressed
        except ValueError:
            host = normalise_domain(host)
    netloc = host
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{host}"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = _dot_segments(_requote(parts.path or "/", _SAFE_PATH)) if parts.path else "/"
    query = _requote(parts.query, _SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


def normalise_email(text: str) -> str:
    value = refang(text).strip().removeprefix("mailto:").lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or any(ch.isspace() for ch in local) or len(local) > 64:
        raise InvalidIndicator(f"{text!r} is not an e-mail address")
    return f"{local}@{normalise_domain(domain)}"


_HASH_LENGTHS = {IndicatorType.MD5: 32, IndicatorType.SHA1: 40, IndicatorType.SHA256: 64}
_HEX = re.compile(r"^[0-9a-f]+$")


def _hash(text: str, kind: IndicatorType) -> str:
    value = text.strip().lower()
    if len(value) != _HASH_LENGTHS[kind] or not _HEX.match(value):
        raise InvalidIndicator(
            f"{text!r} is not an {kind.value.upper()} hash ({_HASH_LENGTHS[kind]} hex digits)"
        )
    return value


_ASN = re.compile(r"^(?:as)?\s*(\d{1,10})$", re.IGNORECASE)


def normalise_asn(text: str) -> str:
    match = _ASN.match(text.strip())
    number = int(match.group(1)) if match else 0
    if not match or not 0 < number < 2**32:
        raise InvalidIndicator(f"{text!r} is not an AS number (AS1 to AS4294967295)")
    return f"AS{number}"


_BRANDNAME = re.compile(r"^[A-Z0-9][A-Z0-9 ._&-]{0,10}$")


def normalise_brandname(text: str) -> str:
    """Sender names of branded SMS: at most 11 characters, compared without case."""
    value = " ".join(text.split()).upper()
    if not _BRANDNAME.match(value):
        raise InvalidIndicator(
            f"{text!r} is not a brandname (1-11 letters, digits, space, '.', '-', '_', '&')"
        )
    return value


def normalise_filename(text: str) -> str:
    value = text.strip()
    if not value or "/" in value or "\\" in value or "\x00" in value or len(value) > 255:
        raise InvalidIndicator(f"{text!r} is not a file name (no path separators, 1-255 chars)")
    return value


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
"""A dotted quad exactly as `ipaddress` writes it (no leading zeros): use with fullmatch."""


def normalise(kind: IndicatorType, text: str) -> IndicatorKey:
    """The canonical key of a value of the given type. CIDRs with one address become
    addresses; anything invalid raises InvalidIndicator."""
    if kind in (IndicatorType.IPV4, IndicatorType.CIDR4):
        if CANONICAL_IPV4.fullmatch(text):  # already canonical: a botnet list's million rows
            return IndicatorKey(IndicatorType.IPV4, text)
        return _network(refang(text), 4)
    if kind in (IndicatorType.IPV6, IndicatorType.CIDR6):
        return _network(refang(text).strip("[]"), 6)
    if kind.is_hash:
        return IndicatorKey(kind, _hash(text, kind))
    if kind is IndicatorType.PHONE:
        try:
            return IndicatorKey(kind, normalise_phone(text).e164)
        except PhoneNumberError as exc:
            raise InvalidIndicator(str(exc)) from None
    by_type = {
        IndicatorType.DOMAIN: normalise_domain,
        IndicatorType.URL: normalise_url,
        IndicatorType.EMAIL: normalise_email,
        IndicatorType.ASN: normalise_asn,
        IndicatorType.BRANDNAME: normalise_brandname,
        IndicatorType.FILENAME: normalise_filename,
    }
    return IndicatorKey(kind, by_type[kind](text))


_GUESSES: tuple[tuple[re.Pattern[str], IndicatorType], ...] = (
    (re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE), IndicatorType.SHA256),
    (re.compile(r"^[0-9a-f]{40}$", re.IGNORECASE), IndicatorType.SHA1),
    (re.compile(r"^[0-9a-f]{32}$", re.IGNORECASE), IndicatorType.MD5),
    (re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$"), IndicatorType.IPV4),
    (re.compile(r"^\[?[0-9a-f:.]*:[0-9a-f:.]*\]?(/\d{1,3})?$", re.IGNORECASE), IndicatorType.IPV6),
    (re.compile(r"^as\s?\d{1,10}$", re.IGNORECASE), IndicatorType.ASN),
    (re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE), IndicatorType.URL),
    (re.compile(r"^[^@\s/]+@[^@\s/]+$"), IndicatorType.EMAIL),
    (re.compile(r"^\+\d[\d .-]{6,}$"), IndicatorType.PHONE),
    (re.compile(r"^[^\s/]+\.[^\s/]+/"), IndicatorType.URL),
)


def guess_indicator(text: str) -> IndicatorKey:
    """Type and canonical value of a bare value (one line of a plain list)."""
    value = refang(text)
    for pattern, kind in _GUESSES:
        if pattern.match(value):
            return normalise(kind, value)
    return normalise(IndicatorType.DOMAIN, value)
