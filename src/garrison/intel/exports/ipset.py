"""ipset restore file: one `hash:net` set per address family, replaced atomically.

`ipset restore < file` creates the live sets when missing (`-exist`), fills a fresh
companion set for each (`<name>_new`), swaps it in and destroys the old content, so a live
set never stands empty or half-filled while the file loads. Sets are
`<namespace>_<set_name>_v4` (family inet) and `…_v6` (family inet6); ipset names are at most
31 characters. `hash:net` cannot hold a /0 network, and holds at most `set_size` entries
(maxelem): such entries are skipped and counted. Nothing but the element count per family is
kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from garrison.intel.exports import (
    IP_VERSIONS,
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    checked_name,
    selected,
    text_output,
)
from garrison.intel.types import IndicatorType

MAX_NAME = 31
NEW_SUFFIX = "_new"
FAMILIES = {4: "inet", 6: "inet6"}


def set_names(options: ExportOptions) -> dict[int, str]:
    return {
        version: checked_name(
            "ipset set name",
            f"{options.namespace}_{options.set_name}_v{version}",
            MAX_NAME - len(NEW_SUFFIX),
        )
        for version in FAMILIES
    }


class IpsetExport:
    name = "ipset"
    title = "ipset restore file"
    media_type = "text/plain; charset=utf-8"
    file_suffix = ".ipset"

    def accepts(self, kind: IndicatorType) -> bool:
        return kind in IP_VERSIONS

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        names = set_names(options)
        if options.set_size < 1:
            raise InvalidExportOption(f"ipset set size {options.set_size} must be at least 1")
        summary = ExportSummary(self.name)
        counts = dict.fromkeys(FAMILIES, 0)
        with text_output(stream) as text:
            for version, family in FAMILIES.items():
                for name in (names[version], names[version] + NEW_SUFFIX):
                    text.write(
                        f"create {name} hash:net family {family} maxelem {options.set_size} "
                        "-exist\n"
                    )
                text.write(f"flush {names[version]}{NEW_SUFFIX}\n")
            for indicator in selected(indicators, self, options, summary):
                version = IP_VERSIONS[indicator.type]
                if indicator.value.endswith("/0"):
                    summary.skip(f"{indicator.type}: hash:net cannot hold a /0 network")
                elif counts[version] >= options.set_size:
                    summary.skip(f"{indicator.type}: set full (set_size {options.set_size})")
                else:
                    text.write(f"add {names[version]}{NEW_SUFFIX} {indicator.value} -exist\n")
                    counts[version] += 1
                    summary.wrote(indicator)
            for name in names.values():
                text.write(f"swap {name}{NEW_SUFFIX} {name}\n")
            for name in names.values():
                text.write(f"destroy {name}{NEW_SUFFIX}\n")
        return summary


EXPORT = IpsetExport()
