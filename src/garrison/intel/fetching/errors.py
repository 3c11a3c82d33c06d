"""The one error a feed download raises, whatever went wrong on the way."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

from garrison.core.errors import GarrisonError

_SECRET_PARAMETER = re.compile(r"(?i)(key|token|secret|pass|auth|sig)")
_USERINFO = re.compile(r"//[^/?#]*@")


def display_url(url: str) -> str:
    """The URL without credentials, so error messages and logs can be shared safely."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return _USERINFO.sub("//", url.partition("?")[0])  # unparseable: keep what is safe
    if ":" in host:
        host = f"[{host}]"
    if port is not None:
        host = f"{host}:{port}"
    query = "&".join(
        f"{name}=***" if _SECRET_PARAMETER.search(name) else f"{name}={value}" if sep else name
        for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit(SplitResult(parts.scheme, host, parts.path, query, parts.fragment))


class FeedFetchError(GarrisonError):
    """A feed could not be downloaded or unpacked; names the URL (credentials hidden) and why.

    `status` is the last HTTP status seen, if any, so a scheduler can tell a missing feed
    (404) from an outage (5xx) without parsing the message."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        self.url = display_url(url)
        self.reason = reason
        self.status = status
        super().__init__(f"fetching {self.url} failed: {reason}")
