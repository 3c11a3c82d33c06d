"""JSON feed documents (STIX bundles, MISP events): read whole, with line numbers for objects.

`json` gives no positions, yet every problem must name the line it is on. The objects
these formats carry have an identifier (`"id"` in STIX, `"uuid"` in MISP), so one pass over
the text records the line each identifier value appears on, in file order. The document is
read whole because its objects refer to each other across the file (a STIX relationship may
come before the indicator it names); MISP feeds stay bounded by reading one event file at a
time.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from garrison.core.errors import InputError, RowProblem

_IDENTIFIER = re.compile(
    r'"(?:id|uuid)"\s*:\s*"([^"\\]{1,200})"'
    r'|"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"\s*:\s*\{'
)
"""An identifier value (`"id": "indicator--…"`, `"uuid": "…"`) or a uuid used as a member
name (a MISP feed manifest's `"<uuid>": {…}`)."""


class IdentifierLines:
    """Where each identifier value occurs; `take` hands the occurrences out in file order,
    so that several versions of one STIX object each get their own line."""

    def __init__(self, text: str) -> None:
        self._lines: defaultdict[str, deque[int]] = defaultdict(deque)
        line, position = 1, 0
        for match in _IDENTIFIER.finditer(text):
            line += text.count("\n", position, match.start())
            position = match.start()
            self._lines[match.group(1) or match.group(2)].append(line)

    def take(self, identifier: object) -> int | None:
        if not isinstance(identifier, str):
            return None
        found = self._lines.get(identifier)
        return found.popleft() if found else None

    def peek(self, identifier: object) -> int | None:
        if not isinstance(identifier, str):
            return None
        found = self._lines.get(identifier)
        return found[0] if found else None


def load_json(path: Path, name: str) -> tuple[Any, IdentifierLines]:
    """The parsed document and its identifier lines; InputError when it is not JSON."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError([RowProblem(name, f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"is not UTF-8 text (invalid byte at offset {exc.start}), so it is not JSON"
        raise InputError([RowProblem(name, reason)]) from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"is not valid JSON: {exc.msg} (column {exc.colno})"
        raise InputError([RowProblem(name, reason, row=exc.lineno)]) from None
    except RecursionError:
        raise InputError([RowProblem(name, "is nested too deeply to be read as JSON")]) from None
    return parsed, IdentifierLines(text)
