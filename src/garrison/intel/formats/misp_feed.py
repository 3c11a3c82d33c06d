"""MISP feeds: a folder with manifest.json and one `<uuid>.json` event file per event.

The document is the manifest (or its folder); the event files it lists are read one at a
time beside it, so a feed of thousands of events is never held in memory at once. A listed
file that is missing or unreadable is a problem and the other events still import.
`hashes.csv`, which served feeds may carry for quick look-ups, is not needed: the event
files carry the values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from garrison.core.errors import InputError, RowProblem
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.formats._json_document import load_json
from garrison.intel.formats.misp import SkippedTypes, read_events, without_bom

_MANIFEST_START = re.compile(rb'^\s*\{\s*"[0-9a-fA-F-]{36}"\s*:\s*\{')
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class MispFeedFormat:
    name = "misp-feed"
    title = "MISP feed (manifest.json and one JSON file per event)"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        return 0.9 if _MANIFEST_START.match(without_bom(head)) and b'"info"' in head else 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        if document.path.is_dir():
            document = FeedDocument(
                document.path / "manifest.json", f"{document.name}/manifest.json"
            )
        manifest = document.path
        data, lines = load_json(manifest, document.name)
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            reason = (
                "is not a MISP feed manifest: expected an object mapping event uuids to "
                "{info, Orgc, date, …}"
            )
            raise InputError([RowProblem(document.name, reason)])
        skipped = SkippedTypes()
        for uuid in data:
            line = lines.peek(uuid)
            if not _UUID.match(uuid):
                yield document.problem(f"manifest key {uuid!r} is not an event uuid", line)
                continue
            yield from self._event_file(document, manifest.parent / f"{uuid}.json", line, skipped)
        yield from skipped.problems()

    def _event_file(
        self, document: FeedDocument, path: Path, line: int | None, skipped: SkippedTypes
    ) -> Iterator[ParsedItem]:
        if not path.is_file():
            yield document.problem(
                f"event {path.stem} is listed in the manifest but {path.name} is missing", line
            )
            return
        try:
            data, lines = load_json(path, path.name)
            yield from read_events(data, path.name, lines, self.name, skipped)
        except InputError as exc:
            yield from exc.problems


FORMAT = MispFeedFormat()
