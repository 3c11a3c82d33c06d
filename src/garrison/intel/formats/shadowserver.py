"""Shadowserver reports: the CSV files Shadowserver mails or serves to a network's owner.

The report is named by the file ('2023-10-01-event4_sinkhole-vietnam-geo.csv', or just
'event4_sinkhole.csv'), or, when the name says nothing, recognised by its columns. The report
decides the classification (our own table, after the one IntelMQ keeps with Shadowserver);
the columns decide the fields, so the current schema (`src_ip`, `src_asn`, `dst_ip` …) and the
legacy one (`ip`, `asn`, `cc_ip` …) read alike, and a report we do not know still gives its hosts
with times and AS numbers. Times are UTC. A row whose host or time cannot be read is a problem;
a bad context field (a garbled destination address) is reported and left out, and the host
still counts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import PurePath
from typing import Literal

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._table_rows import (
    Row,
    address_type,
    as_number,
    is_workbook,
    parse_time,
    port_number,
    read_sheets,
    text_encoding,
    whole_number,
)
from garrison.intel.normalise import InvalidIndicator, normalise
from garrison.intel.types import IndicatorType


@dataclass(frozen=True)
class Classification:
    taxonomy: str
    type: str
    identifier: str


Refine = Callable[[dict[str, str]], Classification | None]


@dataclass(frozen=True)
class Report:
    """How one Shadowserver report classifies its rows."""

    taxonomy: str
    type: str
    identifier: str
    """The identifier, or the fallback when `identifier_from` is empty in a row."""
    identifier_from: tuple[str, ...] = ()
    """Columns whose value (lower-case) is the identifier, e.g. the sinkholes' `infection`."""
    names_malware: bool = False
    """The identifier column names a malware family: it is also `malware_name`."""
    indicator: Literal["ip", "url", "website"] = "ip"
    refine: Refine | None = None
    """A per-row classification for reports that mix kinds (Exchange scan: webshell or not)."""

    def classify(self, values: dict[str, str]) -> Classification:
        refined = self.refine(values) if self.refine else None
        if refined:
            return refined
        named = next((values[c] for c in self.identifier_from if values.get(c)), "")
        return Classification(self.taxonomy, self.type, named.lower() or self.identifier)


def _infected(identifier: str) -> Report:
    return Report(
        "malicious-code",
        "infected-system",
        identifier,
        identifier_from=("infection", "family"),
        names_malware=True,
    )


def _vulnerable(identifier: str, refine: Refine | None = None) -> Report:
    return Report("vulnerable", "vulnerable-system", identifier, refine=refine)


def _exchange(values: dict[str, str]) -> Classification | None:
    if "webshell" in values.get("tag", ""):
        return Classification("intrusions", "system-compromise", "exchange-server-webshell")
    return None


def _ssl(values: dict[str, str]) -> Classification | None:
    for column, identifier in (("ssl_poodle", "ssl-poodle"), ("freak_vulnerable", "ssl-freak")):
        if values.get(column, "").upper() in ("Y", "YES", "TRUE"):
            return Classification("vulnerable", "vulnerable-system", identifier)
    return None


def _brute_force_service(values: dict[str, str]) -> Classification | None:
    service = values.get("service", "").lower()
    if values.get("infection") or not service:
        return None
    return Classification("intrusion-attempts", "brute-force", f"{service}-brute-force")


_SINKHOLE = _infected("sinkhole")
_BRUTE_FORCE = Report(
    "intrusion-attempts",
    "brute-force",
    "brute-force",
    identifier_from=("infection",),
    refine=_brute_force_service,
)
_SANDBOX = ("malicious-code", "malware-distribution")

REPORTS: dict[str, Report] = {
    # infected hosts seen by sinkholes (current and legacy column sets)
    "event4_sinkhole": _SINKHOLE,
    "event6_sinkhole": _SINKHOLE,
    "event4_sinkhole_http": _SINKHOLE,
    "event6_sinkhole_http": _SINKHOLE,
    "event4_sinkhole_http_referer": _SINKHOLE,
    "event6_sinkhole_http_referer": _SINKHOLE,
    "event4_sinkhole_dns": _SINKHOLE,
    "event4_microsoft_sinkhole": _SINKHOLE,
    "event4_microsoft_sinkhole_http": _SINKHOLE,
    "botnet_drone": _SINKHOLE,
    "botnet_drone_hadoop": _SINKHOLE,
    "sinkhole_http_drone": _SINKHOLE,
    "microsoft_sinkhole": Report(
        "malicious-code",
        "infected-system",
        "sinkhole",
        identifier_from=("infection", "type"),
        names_malware=True,
    ),
    # honeypots and other event feeds
    "event4_honeypot_brute_force": _BRUTE_FORCE,
    "drone_brute_force": _BRUTE_FORCE,
    # IntelMQ (and Shadowserver's schema) class darknet hits as other/other: a darknet sees
    # that a host sent packets, and names the bot when it recognises one, but not an attack.
    "event4_honeypot_darknet": Report(
        "other", "other", "darknet", identifier_from=("infection", "family"), names_malware=True
    ),
    "event4_ddos_participant": Report("availability", "ddos", "ddos-participant"),
    "event4_ip_spoofer": Report("fraud", "masquerade", "ip-spoofer"),
    # lists of hosts and URLs
    "blocklist": Report("other", "blacklist", "blocklist"),
    "compromised_website": Report(
        "intrusions", "system-compromise", "compromised-website", indicator="website"
    ),
    "device_id": Report("other", "undetermined", "device-id"),
    "malware_url": Report("malicious-code", "malware-distribution", "malware-url", indicator="url"),
    "phish_url": Report("fraud", "phishing", "phish-url", indicator="url"),
    "sandbox_conn": Report(*_SANDBOX, "sandbox-conn"),
    "sandbox_url": Report(*_SANDBOX, "sandbox-url", indicator="url"),
    "sandbox_dns": Report(*_SANDBOX, "sandbox-dns"),
    "special": Report("vulnerable", "vulnerable-system", "special", identifier_from=("tag",)),
    # scans whose identifier is not simply 'open-<service>'
    "scan_dns": _vulnerable("dns-open-resolver"),
    "scan_ntp": _vulnerable("ntp-version"),
    "scan_http_vulnerable": _vulnerable("vulnerable-http"),
    "scan_exchange": _vulnerable("vulnerable-exchange-server", _exchange),
    "scan_ssl": _vulnerable("open-ssl", _ssl),
    "scan_ssl_poodle": _vulnerable("ssl-poodle"),
    "scan_ssl_freak": _vulnerable("ssl-freak"),
}

_SCAN = re.compile(r"^scan6?_(?P<service>[a-z0-9_]+)$")
_HONEYPOT_SCAN = re.compile(r"^event[46]_honeypot_(?P<service>[a-z0-9_]+)_scan$")
_SINKHOLE_NAME = re.compile(r"^event[46]_(?:microsoft_)?sinkhole(?:_[a-z0-9_]+)?$")
_FILE_NAME = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}-)?(?P<report>[a-z][a-z0-9]*(?:_[a-z0-9]+)*)(?:-.*)?$"
)
_KNOWN_PREFIXES = ("event4_", "event6_", "scan_", "scan6_", "sandbox_", "compromised_", "device_id")


def report_for(name: str) -> Report | None:
    """The classification of a report by its name; None for a name Shadowserver never used."""
    if name in REPORTS:
        return REPORTS[name]
    scan = _SCAN.match(name)
    if scan:
        return _vulnerable("open-" + scan["service"].replace("_", "-"))
    honeypot = _HONEYPOT_SCAN.match(name)
    if honeypot:
        identifier = honeypot["service"].replace("_", "-") + "-scanner"
        return Report("information-gathering", "scanner", identifier)
    if _SINKHOLE_NAME.match(name):
        return _SINKHOLE
    return None


def report_from_file_name(file_name: str) -> str | None:
    """'2023-10-01-event4_sinkhole-vietnam-geo.csv' → 'event4_sinkhole'; a bare name
    ('event4_sinkhole.csv') only when Shadowserver uses it; None for other names."""
    stem = PurePath(file_name).name.lower().removesuffix(".csv")
    match = _FILE_NAME.match(stem)
    if not match:
        return None
    name = match["report"]
    dated = stem[:4].isdigit()
    return name if dated or report_for(name) or name.startswith(_KNOWN_PREFIXES) else None


# Column sets that give a report away when its file name does not; the first that fits wins.
_SIGNATURES: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = tuple(
    (name, frozenset(present.split()), frozenset(absent.split()))
    for name, present, absent in (
        ("event4_ip_spoofer", "src_ip routedspoof", ""),
        ("event4_ddos_participant", "src_ip attack_src_ip", ""),
        ("event4_honeypot_brute_force", "src_ip service username password", ""),
        ("event4_sinkhole_dns", "src_ip query_type query", ""),
        ("event4_sinkhole_http", "src_ip http_url http_host", ""),
        ("event4_honeypot_darknet", "src_ip infection count dst_port", ""),
        ("event4_sinkhole", "src_ip infection dst_ip", ""),
        ("botnet_drone", "ip infection cc_ip", ""),
        ("drone_brute_force", "ip dest_ip service username", ""),
        ("microsoft_sinkhole", "ip type http_agent dst_ip", ""),
        ("compromised_website", "ip http_host detected_since", ""),
        ("malware_url", "url host sha256", ""),
        ("sandbox_url", "url md5 user_agent", ""),
        ("sandbox_conn", "ip md5 bytes_in", ""),
        ("phish_url", "url host source", ""),
        ("blocklist", "ip reason source", ""),
        ("special", "ip status detail method", ""),
        ("device_id", "ip device_vendor device_model", "device_version"),
        ("scan_ssl", "ip handshake ssl_poodle", ""),
    )
)


def report_from_columns(columns: set[str]) -> str | None:
    for name, present, absent in _SIGNATURES:
        if present <= columns and not absent & columns:
            return name
    return None


_IP_COLUMNS = ("src_ip", "ip")
_TIME = "timestamp"


def _first(values: dict[str, str], columns: tuple[str, ...]) -> tuple[str, str]:
    """The first of the columns that holds a value, and that value."""
    for column in columns:
        value = values.get(column, "")
        if value:
            return column, value
    return (columns[0] if columns else ""), ""


def _is_shadowserver_header(columns: set[str]) -> bool:
    return (
        _TIME in columns
        and bool(columns & {"ip", "src_ip", "url"})
        and bool(columns & {"asn", "src_asn", "geo", "src_geo"})
    )


class _RowReader:
    """Turns one report's rows into events: indicator, time, network, destination, extra."""

    # (event field, columns in order of preference, how to read the value)
    _NUMBERS: tuple[tuple[str, tuple[str, ...], Callable[[str], int]], ...] = (
        ("source_asn", ("src_asn", "asn"), as_number),
        ("source_port", ("src_port", "port"), port_number),
        ("destination_port", ("dst_port", "cc_port", "dest_port"), port_number),
        ("count", ("count",), whole_number),
    )
    _TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("source_geolocation_cc", ("src_geo", "geo")),
        ("source_geolocation_region", ("src_region", "region")),
        ("destination_fqdn", ("http_host", "cc_dns", "dest_dns", "dst_hostname", "query")),
    )
    _DESTINATION_IP = ("dst_ip", "cc_ip", "dest_ip")
    _ZERO_MEANS_NONE = frozenset({"src_asn", "asn", "src_port", "port", "dst_port", "cc_port"})

    def __init__(self, document: FeedDocument, name: str, report: Report) -> None:
        self.document = document
        self.name = name
        self.feed_name = f"shadowserver {name}"
        self.report = report

    def items(self, row: Row, values: dict[str, str]) -> Iterator[ParsedItem]:
        used: set[str] = {_TIME}
        found = self._indicator(row, values, used)
        if isinstance(found, RowProblem):
            yield found
            return
        kind, value = found
        try:
            seen = parse_time(values.get(_TIME, ""), UTC)
        except ValueError as exc:
            yield self._problem(row, _TIME, f"{exc}; the row is skipped")
            return
        classification = self.report.classify(values)
        event = IntelEvent(
            kind,
            value,
            self.feed_name,
            line=row.number,
            time_source=seen,
            classification_taxonomy=classification.taxonomy,
            classification_type=classification.type,
            classification_identifier=classification.identifier,
            raw=row.raw,
        )
        if self.report.names_malware:
            _column, malware = _first(values, self.report.identifier_from)
            event.malware_name = malware.lower() or None
            used.update(self.report.identifier_from)
        yield from self._context(row, values, event, used)
        protocol = values.get("protocol", "").lower() or values.get("type", "").lower()
        if protocol in ("tcp", "udp", "icmp"):
            event.protocol_transport = protocol
            used.update(("protocol", "type"))
        tags = values.get("tag", "")
        if tags:
            event.tags = tuple(tag.strip() for tag in re.split(r"[,;]", tags) if tag.strip())
            used.add("tag")
        event.extra = {
            column: text for column, text in values.items() if text and column not in used
        }
        yield event

    def _problem(self, row: Row, column: str, reason: str) -> RowProblem:
        return self.document.problem(reason, row.number, column)

    def _indicator(
        self, row: Row, values: dict[str, str], used: set[str]
    ) -> tuple[IndicatorType, str] | RowProblem:
        if self.report.indicator == "url" or (
            self.report.indicator == "ip"
            and "url" in values
            and not values.keys() & {"ip", "src_ip"}
        ):
            return self._url(row, values.get("url", ""), "url", used)
        if self.report.indicator == "website":
            website = _website_url(values)
            if website:
                used.update(("url", "http_host"))
                return IndicatorType.URL, website
        column, address = _first(values, _IP_COLUMNS)
        if not address:
            return self._problem(row, column, "no IP address; the row is skipped")
        try:
            kind = address_type(address)
        except InvalidIndicator as exc:
            return self._problem(row, column, f"{exc}; the row is skipped")
        used.update(_IP_COLUMNS)
        return kind, address

    def _url(
        self, row: Row, url: str, column: str, used: set[str]
    ) -> tuple[IndicatorType, str] | RowProblem:
        if not url:
            return self._problem(row, column, "no URL; the row is skipped")
        try:
            normalise(IndicatorType.URL, url)
        except InvalidIndicator as exc:
            return self._problem(row, column, f"{exc}; the row is skipped")
        used.add(column)
        return IndicatorType.URL, url

    def _context(
        self, row: Row, values: dict[str, str], event: IntelEvent, used: set[str]
    ) -> Iterator[RowProblem]:
        """Network, ports and destination; a value that cannot be read is reported and left
        out, since the host itself is still worth knowing."""
        for field, columns, read in self._NUMBERS:
            column, text = _first(values, columns)
            used.update(columns)
            if not text or (text == "0" and column in self._ZERO_MEANS_NONE):
                continue
            try:
                setattr(event, field, read(text))
            except ValueError as exc:
                yield self._problem(row, column, f"{exc}; left out")
        for field, columns in self._TEXTS:
            column, text = _first(values, tuple(c for c in columns if c not in used))
            if text:
                setattr(event, field, text)
                used.add(column)
        column, address = _first(values, self._DESTINATION_IP)
        if address and address != "0.0.0.0":
            try:
                address_type(address)
                event.destination_ip = address
            except InvalidIndicator as exc:
                yield self._problem(row, column, f"{exc}; the destination is left out")
        used.update(self._DESTINATION_IP)


def _website_url(values: dict[str, str]) -> str | None:
    """A compromised website's URL from its host and path, as the report splits them."""
    host = values.get("http_host", "")  # `hostname` is the server's reverse DNS name
    path = values.get("url", "")
    if not host:
        return None
    scheme = values.get("application", "http")
    scheme = scheme if scheme in ("http", "https") else "http"
    url = f"{scheme}://{host}{path if path.startswith('/') else '/' + path}"
    try:
        normalise(IndicatorType.URL, url)
    except InvalidIndicator:
        return None
    return url


def _columns_in_head(head: bytes) -> set[str]:
    try:
        text = head.decode(text_encoding(head), errors="ignore")
    except ValueError:
        return set()
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        cells = next(csv.reader(io.StringIO(first_line)), [])
    except csv.Error:
        return set()
    return {cell.strip().lower() for cell in cells}


class ShadowserverFormat:
    name = "shadowserver"
    title = "Shadowserver reports (CSV)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        if is_workbook(head):
            return 0.0
        named = report_from_file_name(document.name) is not None
        shaped = _is_shadowserver_header(_columns_in_head(head))
        if shaped:
            return 0.95 if named else 0.85
        return 0.5 if named else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        sheets = read_sheets(document)
        sheet = next(sheets)
        if sheet.name is not None:
            raise InputError(
                [document.problem("Shadowserver reports are CSV files; this is a workbook")]
            )
        header_row = next(sheet.rows, None)
        if header_row is None:
            raise InputError([document.problem("the file holds no rows")])
        columns = [
            text.lower() for text in (header_row.text(i) for i in range(len(header_row.cells)))
        ]
        column_set = set(columns)
        if not column_set & {"ip", "src_ip", "url"} or _TIME not in column_set:
            raise InputError(
                [
                    document.problem(
                        "not a Shadowserver report: the first line must name the columns, "
                        "with 'timestamp' and 'ip', 'src_ip' or 'url'",
                        header_row.number,
                    )
                ]
            )
        name = report_from_file_name(document.name) or report_from_columns(column_set) or "unknown"
        report = report_for(name) or Report("other", "undetermined", name)
        reader = _RowReader(document, name, report)
        for row in sheet.rows:
            values = dict(zip(columns, (row.text(i) for i in range(len(row.cells))), strict=False))
            yield from reader.items(row, values)


FORMAT = ShadowserverFormat()
