"""FortiGate (FortiOS CLI) script: firewall addresses and the address groups holding them.

IPv4 addresses and networks go in `config firewall address` (`set type ipmask`, `set subnet
<address> <mask>`), domains too (`set type fqdn`, `set fqdn`), named `<namespace>-<n>`; IPv6
ones in `config firewall address6` (`set type ipprefix`, `set ip6`), named `<namespace>6-<n>`
(FortiOS wants names unique across both tables). The type is always set, so running the
script over a previous export's objects works when a number now names another kind.

An address group holds a limited number of members; the limit depends on the model and
FortiOS version (Fortinet's maximum values table, `firewall.addrgrp:member`), so
`group_size` sets it (600 by default, a conservative value) and the addresses are split into
groups `<namespace>-<set_name>-<k>` (IPv4 and FQDN, `config firewall addrgrp`) and
`<namespace>-<set_name>6-<k>` (IPv6, `addrgrp6`) for policies to reference. Each group is
written right after its own addresses, so one group's worth of entries is all that is held
in memory; members are listed in `set member`/`append member` lines of 50 names so that no
line grows long.

Names are at most 79 characters; strings are double-quoted with '\\' and '"' escaped, and a
comment is one line without '?' (the CLI's help key) cut to 255 bytes. A FortiGate also
limits the number of addresses per VDOM: for large lists, serve the `plain` export as an
external threat feed instead. The script never deletes: when an export shrinks, groups
numbered beyond the new count keep their previous members until an administrator removes
them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from garrison.intel.exports import (
    IP_VERSIONS,
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    annotation,
    checked_name,
    one_line,
    selected,
    text_output,
)
from garrison.intel.types import IndicatorType

MAX_NAME = 79
MAX_COMMENT_BYTES = 255
MEMBERS_PER_LINE = 50
_NUMBER_ROOM = 12
"""What follows a name prefix: '6' for IPv6 objects, a hyphen and up to ten digits."""


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def comment_text(indicator: ExportedIndicator) -> str:
    text = one_line(annotation(indicator).replace("?", " "))
    return text.encode("utf-8")[:MAX_COMMENT_BYTES].decode("utf-8", errors="ignore")


def address_lines(indicator: ExportedIndicator) -> list[str]:
    """The `set` lines of one address entry."""
    if indicator.type is IndicatorType.DOMAIN:
        lines = ["set type fqdn", f"set fqdn {quoted(indicator.value)}"]
    elif IP_VERSIONS[indicator.type] == 4:
        network = ipaddress.IPv4Network(indicator.value)
        lines = ["set type ipmask", f"set subnet {network.network_address} {network.netmask}"]
    else:
        lines = ["set type ipprefix", f"set ip6 {ipaddress.IPv6Network(indicator.value)}"]
    return [*lines, f"set comment {quoted(comment_text(indicator))}"]


@dataclass
class _Family:
    """One address family's config sections and the group being filled."""

    address_section: str
    group_section: str
    name_prefix: str
    group_prefix: str
    addresses: int = 0
    groups: int = 0
    pending: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, indicator: ExportedIndicator) -> None:
        self.addresses += 1
        self.pending.append((f"{self.name_prefix}-{self.addresses}", address_lines(indicator)))

    def flush(self, text: TextIO) -> None:
        if not self.pending:
            return
        self.groups += 1
        text.write(f"config {self.address_section}\n")
        for name, lines in self.pending:
            text.write(f"    edit {quoted(name)}\n")
            text.writelines(f"        {line}\n" for line in lines)
            text.write("    next\n")
        text.write(f"end\nconfig {self.group_section}\n")
        text.write(f"    edit {quoted(f'{self.group_prefix}-{self.groups}')}\n")
        names = [quoted(name) for name, _ in self.pending]
        for start in range(0, len(names), MEMBERS_PER_LINE):
            verb = "set" if start == 0 else "append"
            text.write(
                f"        {verb} member {' '.join(names[start : start + MEMBERS_PER_LINE])}\n"
            )
        text.write("    next\nend\n")
        self.pending.clear()


class FortigateExport:
    name = "fortigate"
    title = "FortiGate CLI script (addresses and groups)"
    media_type = "text/plain; charset=utf-8"
    file_suffix = ".conf"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind in IP_VERSIONS or kind is IndicatorType.DOMAIN

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        room = MAX_NAME - _NUMBER_ROOM
        prefix = checked_name("FortiGate name prefix", options.namespace, room)
        group = checked_name("FortiGate group name", f"{prefix}-{options.set_name}", room)
        if options.group_size < 1:
            raise InvalidExportOption(f"group size {options.group_size} must be at least 1")
        families = {
            4: _Family("firewall address", "firewall addrgrp", prefix, group),
            6: _Family("firewall address6", "firewall addrgrp6", prefix + "6", group + "6"),
        }
        summary = ExportSummary(self.name)
        with text_output(stream) as text:
            for indicator in selected(indicators, self, options, summary):
                family = families[IP_VERSIONS.get(indicator.type, 4)]
                family.add(indicator)
                summary.wrote(indicator)
                if len(family.pending) >= options.group_size:
                    family.flush(text)
            for family in families.values():
                family.flush(text)
        return summary


EXPORT = FortigateExport()
