"""Spamhaus CERT feed: infected and abusive hosts in a national CERT's constituency.

One CSV line per host and behaviour (`ip, asn, country, lastseen, botname, domain, remote_ip,
remote_port, local_port, protocol`). 'botname' is a malware family for infected hosts
(conficker, asprox) but also names behaviours (sshauth, openrelay, wpscanner), which decide
the classification instead; the C2 fields are filled only when Spamhaus saw the connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import Row, address_type, each_row
from garrison.intel.formats._feed_text import CommentedCsv, CsvRecord, comment_text, head_lines
from garrison.intel.normalise import InvalidIndicator, guess_indicator
from garrison.intel.types import IndicatorType

COLUMNS = (
    "ip",
    "asn",
    "country",
    "lastseen",
    "botname",
    "domain",
    "remote_ip",
    "remote_port",
    "local_port",
    "protocol",
)
CSV = CommentedCsv({}, "botname", COLUMNS, growing=True)
"""Spamhaus: 'Additional fields may be added in the future without notice'."""
_BRUTE_FORCE = ("intrusion-attempts", "brute-force")
_SCANNER = ("information-gathering", "scanner")
_SPAM = ("abusive-content", "spam")
_VULNERABLE = ("vulnerable", "vulnerable-system")
BEHAVIOURS: dict[str, tuple[tuple[str, str], str | None]] = {
    # botname: (RSIT taxonomy/type, application protocol); other botnames are families.
    "openrelay": (_VULNERABLE, "smtp"),
    "proxyget": (_VULNERABLE, "http"),
    "iotrdp": (_BRUTE_FORCE, "rdp"),
    "sshauth": (_BRUTE_FORCE, "ssh"),
    "telnetauth": (_BRUTE_FORCE, "telnet"),
    "iotcmd": (_BRUTE_FORCE, "telnet"),
    "iotuser": (_BRUTE_FORCE, "telnet"),
    "smtpauth": (_BRUTE_FORCE, "smtp"),
    "imap": (_BRUTE_FORCE, "imap"),
    "iotscan": (_SCANNER, None),
    "wpscanner": (_SCANNER, "http"),
    "w_wplogin": (_SCANNER, "http"),
    "l_spamlink": (_SPAM, None),
    "authspoofbadehlo": (_SPAM, "smtp"),
    "extortion": (_SPAM, "smtp"),
}
UNNAMED_FAMILIES = frozenset({"auto", "misc"})
"""Botnames Spamhaus gives infections it did not attribute."""
FAMILY_NAMES = {"iotmirai": "mirai"}
_ADDRESSES = frozenset({IndicatorType.IPV4, IndicatorType.IPV6})


def _guessed(value: str | None) -> IndicatorType | None:
    if value is None:
        return None
    try:
        return guess_indicator(value).type
    except InvalidIndicator:
        return None


class SpamhausCert:
    name = "spamhaus-cert"
    title = "Spamhaus CERT feed of infected and abusive hosts"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        comments = comment_text(head_lines(head)).lower().replace(" ", "")
        if "ip,asn,country,lastseen,botname" in comments:
            return 0.95
        if "spamhaus" in comments and "botname" in comments:
            return 0.9
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, CSV.records(document), self._event)

    def _event(self, record: CsvRecord) -> list[IntelEvent]:
        row = Row(record.fields)
        address = row.required("ip")
        botname = (row.text("botname") or "").lower()
        behaviour = BEHAVIOURS.get(botname)
        (taxonomy, kind), application = behaviour or (("malicious-code", "infected-system"), None)
        extra: dict[str, Any] = {"protocol_application": application} if application else {}
        malware = None
        if behaviour is None and botname not in UNNAMED_FAMILIES:
            malware = FAMILY_NAMES.get(botname, botname) or None
        domain, remote_ip = row.text("domain"), row.text("remote_ip")
        domain_kind = _guessed(domain)
        fqdn = domain if domain_kind is IndicatorType.DOMAIN else None
        destination_ip = remote_ip if _guessed(remote_ip) in _ADDRESSES else None
        if remote_ip and not destination_ip:
            extra["remote_ip"] = remote_ip
        if domain_kind in _ADDRESSES and destination_ip in (None, domain):
            destination_ip = domain  # the C2 was reached by address
        elif domain and not fqdn:
            extra["url" if domain_kind is IndicatorType.URL else "domain"] = domain
        local = row.text("local_port")
        if botname == "l_spamlink" and local and local.count(":") == 2:
            # The spam-link rows carry 'sending ip:version:spam tool' where the port would be.
            extra["spam_ip"], extra["malware_version"], spam_tool = local.split(":")
            malware, local = spam_tool.lower() or None, None
        seen = row.time("lastseen")
        return [
            IntelEvent(
                indicator_type=address_type(address, "ip"),
                value=address,
                feed_name=self.name,
                line=record.line.number,
                time_source=seen,
                last_seen=seen,
                classification_taxonomy=taxonomy,
                classification_type=kind,
                classification_identifier=botname or None,
                malware_name=malware,
                source_asn=row.asn("asn"),
                source_geolocation_cc=row.text("country"),
                source_port=Row({"local_port": local}).port("local_port"),
                destination_ip=destination_ip,
                destination_port=row.port("remote_port"),
                destination_fqdn=fqdn,
                protocol_transport=row.text("protocol"),
                extra=extra,
                raw=record.line.text,
            )
        ]


FORMAT = SpamhausCert()
