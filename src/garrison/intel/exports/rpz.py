"""DNS response policy zone (RPZ) for the DNS firewalls of telecom operators and ISPs.

The zone file (draft-vixie-dnsop-dns-rpz; BIND, Unbound, PowerDNS Recursor, Knot Resolver)
holds `$ORIGIN`, `$TTL`, the SOA and NS records, then for each indicator a comment (why it is
listed: classification, malware, sources) and its triggers:

- a domain: `evil.example CNAME <action>`, and `*.evil.example` too (`wildcard`) so that its
  subdomains are blocked with it; names are already punycode (normalised);
- a URL: its host, the same way (a URL whose host is an IP address is skipped: no DNS
  lookup happens for it);
- an IPv4/IPv6 address or network: a response-IP trigger `<prefix>.<reversed address>.rpz-ip`
  that rewrites answers pointing into it. IPv4 octets are reversed (1.2.3.4 →
  `32.4.3.2.1.rpz-ip`); IPv6 16-bit words are reversed in hex without leading zeros, the
  first longest run of two or more zero words written `zz` (the `::` of RFC 5952, which is
  BIND's canonical form): 2001:db8::/32 → `32.zz.db8.2001.rpz-ip`. A /0 has no trigger.

The action is the policy: NXDOMAIN `CNAME .`, NODATA `CNAME *.`, DROP `CNAME rpz-drop.`,
walled garden `CNAME <walled garden host>.`. The SOA serial is the export's unix time, or
YYYYMMDDnn with nn the hour (so at most one export an hour keeps it increasing).

Skipped (counted): a domain whose last label is an RPZ trigger label (it would be read as a
trigger of another kind), and a name longer than DNS allows once under the zone. Memory kept:
the last few thousand URL hosts, so that a host shared by many URLs is mostly written once;
a repeat that slips through is harmless (identical records form one record set).
"""

from __future__ import annotations

import ipaddress
import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO, TextIO
from urllib.parse import urlsplit

from garrison.intel.exports import (
    IP_VERSIONS,
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    RpzPolicy,
    annotation,
    one_line,
    selected,
    text_output,
    utc_text,
)
from garrison.intel.types import IndicatorType

TRIGGER_LABELS = frozenset({"rpz-ip", "rpz-nsip", "rpz-nsdname", "rpz-client-ip"})
MAX_NAME_TEXT = 253
"""Longest name in text without the final dot (255 octets on the wire)."""
RECENT_HOSTS = 4096
REFRESH, RETRY, EXPIRE = 3600, 600, 604800
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_ACTIONS = {RpzPolicy.NXDOMAIN: ".", RpzPolicy.NODATA: "*.", RpzPolicy.DROP: "rpz-drop."}


def dns_name(what: str, text: str) -> str:
    """A host name option in lower case without the final dot; InvalidExportOption if bad."""
    name = text.strip().rstrip(".").lower()
    if not name or len(name) > MAX_NAME_TEXT or not all(map(_LABEL.match, name.split("."))):
        raise InvalidExportOption(f"{what} {text!r} is not a DNS name")
    return name


def rpz_ip_name(value: str) -> str:
    """The response-IP trigger owner (relative to the zone) of an address or network."""
    network = ipaddress.ip_network(value)
    address = int(network.network_address)
    if network.version == 4:
        labels = [str((address >> shift) & 0xFF) for shift in range(0, 32, 8)]
    else:
        words = [(address >> (112 - 16 * index)) & 0xFFFF for index in range(8)]
        start, length = _longest_zero_run(words)
        parts = [f"{word:x}" for word in words]
        if length >= 2:
            parts[start : start + length] = ["zz"]
        labels = parts[::-1]
    return f"{network.prefixlen}.{'.'.join(labels)}.rpz-ip"


def _longest_zero_run(words: list[int]) -> tuple[int, int]:
    """Start and length of the first longest run of zero words."""
    best_start, best_length, start = 0, 0, None
    for index, word in enumerate([*words, 1]):
        if word == 0:
            start = index if start is None else start
        elif start is not None:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = None
    return best_start, best_length


def serial(moment: datetime, style: str) -> int:
    if style == "date":
        return int(moment.strftime("%Y%m%d")) * 100 + moment.hour
    return int(moment.timestamp())


class _ZoneWriter:
    def __init__(self, text: TextIO, zone: str, action: str, wildcard: bool) -> None:
        self.text = text
        self.zone = zone
        self.action = action
        self.wildcard = wildcard
        self.recent_hosts: OrderedDict[str, None] = OrderedDict()

    def fits(self, name: str) -> bool:
        return len(f"{name}.{self.zone}") <= MAX_NAME_TEXT

    def qname_skip_reason(self, domain: str) -> str | None:
        if domain.rsplit(".", 1)[-1] in TRIGGER_LABELS:
            return "ends in an RPZ trigger label"
        if not self.fits(f"*.{domain}" if self.wildcard else domain):
            return "name too long under the zone"
        return None

    def write(self, indicator: ExportedIndicator, owners: list[str]) -> None:
        self.text.write(f"; {annotation(indicator)}\n")
        self.text.writelines(f"{owner} CNAME {self.action}\n" for owner in owners)

    def seen_host(self, host: str) -> bool:
        if host in self.recent_hosts:
            self.recent_hosts.move_to_end(host)
            return True
        self.recent_hosts[host] = None
        if len(self.recent_hosts) > RECENT_HOSTS:
            self.recent_hosts.popitem(last=False)
        return False


def _url_host(url: str) -> str | None:
    """The host name of a URL; None when the host is an IP address."""
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return None


class RpzExport:
    name = "rpz"
    title = "DNS response policy zone (RPZ)"
    media_type = "text/dns"
    file_suffix = ".zone"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind in IP_VERSIONS or kind in (IndicatorType.DOMAIN, IndicatorType.URL)

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        zone = dns_name("RPZ zone", options.zone)
        nameserver = dns_name("RPZ name server", options.nameserver)
        hostmaster = dns_name("RPZ hostmaster", options.hostmaster)
        action = self._action(options)
        if options.ttl < 0:
            raise InvalidExportOption(f"TTL {options.ttl} must not be negative")
        moment = options.moment()
        summary = ExportSummary(self.name)
        with text_output(stream) as text:
            text.write(f"; {one_line(options.title)}, generated {utc_text(moment)}\n")
            text.write(f"$ORIGIN {zone}.\n$TTL {options.ttl}\n")
            text.write(
                f"@ IN SOA {nameserver}. {hostmaster}. {serial(moment, options.serial)} "
                f"{REFRESH} {RETRY} {EXPIRE} {options.ttl}\n@ IN NS {nameserver}.\n"
            )
            zone_writer = _ZoneWriter(text, zone, action, options.wildcard)
            for indicator in selected(indicators, self, options, summary):
                owners, reason = self._owners(indicator, zone_writer)
                if reason is not None:
                    summary.skip(f"{indicator.type}: {reason}")
                    continue
                if owners:
                    zone_writer.write(indicator, owners)
                summary.wrote(indicator)
        return summary

    def _action(self, options: ExportOptions) -> str:
        if options.policy is not RpzPolicy.WALLED_GARDEN:
            return _ACTIONS[options.policy]
        if not options.walled_garden:
            raise InvalidExportOption("the walled-garden policy needs a walled garden host")
        return dns_name("walled garden host", options.walled_garden) + "."

    def _owners(
        self, indicator: ExportedIndicator, zone_writer: _ZoneWriter
    ) -> tuple[list[str], str | None]:
        """Owner names to write, or the reason to skip; no owners for a recent URL host."""
        if indicator.type in IP_VERSIONS:
            if indicator.value.endswith("/0"):
                return [], "a /0 network has no response-IP trigger"
            return [rpz_ip_name(indicator.value)], None
        domain = indicator.value
        if indicator.type is IndicatorType.URL:
            host = _url_host(indicator.value)
            if host is None:
                return [], "URL host is an IP address"
            if zone_writer.seen_host(host):
                return [], None
            domain = host
        reason = zone_writer.qname_skip_reason(domain)
        if reason is not None:
            return [], reason
        return ([domain, f"*.{domain}"] if zone_writer.wildcard else [domain]), None


EXPORT = RpzExport()
