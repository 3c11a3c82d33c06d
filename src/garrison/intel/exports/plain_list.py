"""Plain list: one value per line, for tools that read a bare blocklist (a FortiGate external
threat feed, Suricata datasets, grep -F -f). `options.types` chooses what goes in; a value
that would break the one-value-a-line shape (a file name holding a line break) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    has_control_characters,
    selected,
    text_output,
)
from garrison.intel.types import IndicatorType


class PlainExport:
    name = "plain"
    title = "Plain list, one value per line"
    media_type = "text/plain; charset=utf-8"
    file_suffix = ".txt"

    def accepts(self, kind: IndicatorType) -> bool:
        return True

    def write(
        self, indicators: Iterable[ExportedIndicator], stream: BinaryIO, *, options: ExportOptions
    ) -> ExportSummary:
        summary = ExportSummary(self.name)
        with text_output(stream) as text:
            for indicator in selected(indicators, self, options, summary):
                if has_control_characters(indicator.value):
                    summary.skip(f"{indicator.type}: value spans lines or has control characters")
                    continue
                text.write(indicator.value + "\n")
                summary.wrote(indicator)
        return summary


EXPORT = PlainExport()
