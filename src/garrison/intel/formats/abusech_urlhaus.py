"""abuse.ch URLhaus database dumps (`csv_recent`, `csv_online`, full `csv`) and text lists.

Every URL serves malware. The family is only in the free-form tags, mixed with file types,
CPU architectures and delivery notes ("32-bit,elf,mips,Mozi"): it is taken when exactly
one tag is left once those are set aside, and left out otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._feed_fields import Row, each_row, family
from garrison.intel.formats._feed_text import (
    CommentedCsv,
    CsvRecord,
    comment_text,
    head_lines,
    header_names,
)
from garrison.intel.types import IndicatorType

COLUMNS = (
    "id",
    "dateadded",
    "url",
    "url_status",
    "last_online",
    "threat",
    "tags",
    "urlhaus_link",
    "reporter",
)
CSV = CommentedCsv({}, "url", COLUMNS, single="url")
THREATS = {"malware_download": ("malicious-code", "malware-distribution")}
_ARCHITECTURE = (
    r"(32|64)-bit|arm\d*|aarch64|amd64|i[3-6]86|m68k|mips(el)?|mpsl|ppc|sh4|sparc|spc|x86([-_]64)?"
)
_FILE_TYPE = (
    r"elf|exe|dll|msi|apk|jar|lnk|iso|img|vhdx?|zip|rar|7z|gz|tar|doc[xm]?|xls[xm]?|rtf|pdf"
    r"|one|html?|hta|js|vbs|ps1|powershell|bat|cmd|sh|php|txt|ascii|base64"
)
_NOTE = (
    r"encrypted|geofenced|opendir|ua-\w+|payload|dropper|loader|downloader|malware|botnet|c2"
    r"|stealer|rat|miner|coinminer|ransomware|banker|phishing|exploit|dropped-by-.*|cve-\d.*"
)
NOT_A_FAMILY = re.compile(rf"^(?:{_ARCHITECTURE}|{_FILE_TYPE}|{_NOTE})$", re.IGNORECASE)
"""Tags that describe the file or its delivery rather than name a family."""


def malware_from_tags(tags: tuple[str, ...]) -> str | None:
    candidates = {
        tag.lower()
        for tag in tags
        if not NOT_A_FAMILY.match(tag) and not (tag.isupper() and len(tag) <= 3)  # country
    }
    return family(candidates.pop()) if len(candidates) == 1 else None


class UrlHaus:
    name = "urlhaus"
    title = "abuse.ch URLhaus database dump (CSV) or URL list"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        lines = head_lines(head)
        if "urlhaus" in comment_text(lines).lower():
            return 0.95
        if {"url", "urlhaus_link"} <= header_names(lines):
            return 0.9
        return 0.3 if "urlhaus" in document.name.lower() else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        yield from each_row(document, CSV.records(document), self._event)

    def _event(self, record: CsvRecord) -> list[IntelEvent]:
        row = Row(record.fields)
        threat = row.text("threat")
        taxonomy, kind = THREATS.get(threat or "malware_download", (None, None))
        tags = row.tags("tags")
        extra = row.present("id", "url_status", "threat", "urlhaus_link", "reporter")
        return [
            IntelEvent(
                indicator_type=IndicatorType.URL,
                value=row.required("url"),
                feed_name=self.name,
                line=record.line.number,
                time_source=row.time("dateadded"),
                last_seen=row.time("last_online"),
                classification_taxonomy=taxonomy,
                classification_type=kind,
                malware_name=malware_from_tags(tags),
                tags=tags,
                extra=extra,
                raw=record.line.text,
            )
        ]


FORMAT = UrlHaus()
