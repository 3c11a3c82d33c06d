"""nftables script: named interval sets of addresses and networks, refilled atomically.

`nft -f file` runs the whole file as one transaction: it declares `table inet <namespace>`
with the sets `<set_name>_v4` (ipv4_addr) and `<set_name>_v6` (ipv6_addr) (declaring is
idempotent), flushes them and adds the elements in `add element` statements of at most
`chunk_size` elements, so no line grows unbounded. The sets carry `flags interval` so they
hold networks, and `auto-merge` so an address inside a listed network, or overlapping
networks, do not abort the load. Rules referencing the sets (`ip saddr @blocklist_v4 drop`)
are the site's own. Memory kept: one pending chunk per family.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, TextIO

from garrison.intel.exports import (
    IP_VERSIONS,
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    checked_name,
    one_line,
    selected,
    text_output,
    utc_text,
)
from garrison.intel.types import IndicatorType

MAX_NAME = 64
ADDRESS_TYPES = {4: "ipv4_addr", 6: "ipv6_addr"}


def _add_elements(text: TextIO, table: str, set_name: str, elements: list[str]) -> None:
    text.write(f"add element inet {table} {set_name} {{ {', '.join(elements)} }}\n")


class NftablesExport:
    name = "nftables"
    title = "nftables script (named sets)"
    media_type = "text/plain; charset=utf-8"
    file_suffix = ".nft"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind in IP_VERSIONS

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        table = checked_name("nftables table", options.namespace, MAX_NAME)
        sets = {
            version: checked_name("nftables set", f"{options.set_name}_v{version}", MAX_NAME)
            for version in ADDRESS_TYPES
        }
        if options.chunk_size < 1:
            raise InvalidExportOption(f"chunk size {options.chunk_size} must be at least 1")
        summary = ExportSummary(self.name)
        pending: dict[int, list[str]] = {version: [] for version in ADDRESS_TYPES}
        with text_output(stream) as text:
            text.write("#!/usr/sbin/nft -f\n")
            text.write(f"# {one_line(options.title)}, generated {utc_text(options.moment())}\n")
            text.write(f"table inet {table} {{\n")
            for version, address_type in ADDRESS_TYPES.items():
                text.write(
                    f"\tset {sets[version]} {{\n\t\ttype {address_type}\n"
                    "\t\tflags interval\n\t\tauto-merge\n\t}\n"
                )
            text.write("}\n")
            for set_name in sets.values():
                text.write(f"flush set inet {table} {set_name}\n")
            for indicator in selected(indicators, self, options, summary):
                version = IP_VERSIONS[indicator.type]
                chunk = pending[version]
                chunk.append(indicator.value)
                summary.wrote(indicator)
                if len(chunk) >= options.chunk_size:
                    _add_elements(text, table, sets[version], chunk)
                    chunk.clear()
            for version, chunk in pending.items():
                if chunk:
                    _add_elements(text, table, sets[version], chunk)
        return summary


EXPORT = NftablesExport()
