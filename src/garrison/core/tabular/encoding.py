"""Turning a text file's bytes into text when nobody said which encoding they used."""

from __future__ import annotations

import codecs
import unicodedata

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAX_CHAOS = 0.2
VIETNAMESE_CODE_PAGE = "cp1258"


class UndecodableText(ValueError):
    pass


def _utf16_without_bom(data: bytes) -> str | None:
    """Excel's 'Unicode text' without a BOM: every other byte of ASCII text is zero."""
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros > half * 0.3 and even_zeros == 0:
        return "utf-16-le"
    if even_zeros > half * 0.3 and odd_zeros == 0:
        return "utf-16-be"
    return None


def detect_encoding(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    wide = _utf16_without_bom(data)
    if wide:
        return wide
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data[:1_000_000])
    best = matches.best()
    if best is None or best.chaos > _MAX_CHAOS:
        raise UndecodableText("cannot tell which text encoding the file uses; save it as UTF-8")
    # Short Vietnamese texts decode cleanly in several code pages (hp_roman8, cp1250, ...):
    # when Windows' Vietnamese code page reads the bytes as cleanly as the best guess, it wins.
    if any(m.encoding == VIETNAMESE_CODE_PAGE and m.chaos <= best.chaos for m in matches):
        return VIETNAMESE_CODE_PAGE
    return best.encoding


def decode_text(data: bytes) -> tuple[str, str]:
    """Text in NFC (cp1258 spells tones as combining marks) and the encoding that was used."""
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UndecodableText(f"not valid {encoding} at byte {exc.start}") from None
    if "\x00" in text:
        raise UndecodableText("the file holds NUL characters: it is binary, not CSV text")
    return unicodedata.normalize("NFC", text), encoding
