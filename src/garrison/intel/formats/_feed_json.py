"""Large JSON feed exports read one top-level member at a time.

ThreatFox's full export is one JSON object of hundreds of megabytes; loading it whole would
break the bounded-memory promise of every parser. This reads the top-level array elements or
object members one by one, each with the line it starts on and its text for `raw`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple, TextIO

from garrison.core.errors import InputError
from garrison.intel.formats import FeedDocument
from garrison.intel.formats._feed_text import open_text

_CHUNK = 1 << 16
MAX_MEMBER_CHARS = 64 << 20
"""One element larger than this is refused rather than read into memory."""
_WHITESPACE = " \t\r\n"
_DECODER = json.JSONDecoder()


def json_opening(head: bytes) -> bytes:
    """The head without byte-order mark and leading white space: where '[' or '{' shows."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")


class JsonMember(NamedTuple):
    line: int
    key: str | None
    """The member's name in a top-level object; None for an element of a top-level array."""
    value: Any
    raw: str


class _Reader:
    """A window on the text: consumed text is dropped, its newlines counted for line numbers."""

    def __init__(self, document: FeedDocument, stream: TextIO) -> None:
        self.document = document
        self.stream = stream
        self.text = ""
        self.pos = 0
        self.eof = False
        self.lines_dropped = 0

    def fail(self, reason: str) -> InputError:
        return InputError([self.document.problem(f"not valid JSON: {reason}", self.line())])

    def line(self, pos: int | None = None) -> int:
        at = self.pos if pos is None else pos
        return self.lines_dropped + self.text.count("\n", 0, at) + 1

    def _fill(self, at_least: int = _CHUNK) -> bool:
        if self.eof:
            return False
        if len(self.text) - self.pos > MAX_MEMBER_CHARS:
            raise self.fail(f"one value is longer than {MAX_MEMBER_CHARS} characters")
        self.lines_dropped += self.text.count("\n", 0, self.pos)
        chunk = self.stream.read(max(at_least, _CHUNK))
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        self.eof = not chunk
        return bool(chunk)

    def peek(self) -> str:
        """The next character that is not white space; '' at the end."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._fill():
                return ""

    def expect(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else "the end of the file"
            raise self.fail(f"expected one of {' '.join(allowed)} but found {found}")
        self.pos += 1
        return char

    def value(self) -> tuple[Any, str]:
        """The next value and its text; reads on while the value may be cut by the window."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                # JSON strings hold no raw newline: an error with no newline after it may be
                # the window's edge cutting the value, one with a newline after it is real.
                cut = "\n" not in self.text[exc.pos :]
                if cut and self._fill(len(self.text) - self.pos):
                    continue
                self.pos = exc.pos
                raise self.fail(exc.msg) from None
            except RecursionError:
                raise self.fail("nested too deeply") from None
            if end >= len(self.text) and self._fill(len(self.text) - self.pos):
                continue  # a number at the edge of the window may go on
            raw = self.text[self.pos : end]
            self.pos = end
            return value, raw


def json_members(document: FeedDocument) -> Iterator[JsonMember]:
    """Top-level array elements or object members in file order; InputError when the
    document is not JSON or stops being JSON part-way (a truncated download)."""
    with open_text(document) as stream:
        reader = _Reader(document, stream)
        opening = reader.expect("[{")
        closing = "]" if opening == "[" else "}"
        if reader.peek() == closing:
            return
        while True:
            reader.peek()
            line = reader.line()
            key: str | None = None
            if closing == "}":
                if reader.peek() != '"':
                    raise reader.fail("expected a member name in double quotes")
                key, _ = reader.value()
                reader.expect(":")
            value, raw = reader.value()
            yield JsonMember(line, key, value, raw)
            if reader.expect("," + closing) == closing:
                return


def json_lines(text: str) -> Any:
    """One line of a JSON-lines feed; ValueError when it is not JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
