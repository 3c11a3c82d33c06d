"""Cursor pagination: stable under inserts, cheap at any depth (keyset on the id, or on another
integer key where a listing is ordered by it)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from garrison.web.problems import UnprocessableContent

T = TypeVar("T")
MAX_LIMIT = 500
MAX_KEY = 2**31 - 1  # the widest integer key any backend stores


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_key: int, kind: str = "id") -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: str = "id") -> int:
    """The key after which the page starts; 0 for the first page."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, value = text.partition(":")
        if found == kind and value.isdigit() and len(value) < 11 and int(value) <= MAX_KEY:
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    message = f"cursor {cursor!r} is not one this API returned for this listing"
    raise UnprocessableContent(
        message, errors=[{"location": ["query", "cursor"], "message": message}]
    )


def next_cursor(keys: Sequence[int], limit: int, kind: str = "id") -> str | None:
    return encode_cursor(keys[-1], kind) if len(keys) == limit and keys else None
