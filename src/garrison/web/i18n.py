"""Translations for pages and documents: Vietnamese by default, English on request.

Catalogues are gettext .po files under `locale/<language>/LC_MESSAGES/`, one per area of the
app (merged when loaded); they are compiled in memory, so there is no build step and no stale
.mo file.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> NullTranslations:
    """The catalogue of a language; English is the source language of every message."""
    sources = sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po"))
    if language == "en" or not sources:
        return NullTranslations()
    catalogue = Catalog(locale=language)
    for source in sources:
        with source.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id and message.string:
                    catalogue.add(message.id, message.string)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def choose_language(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
