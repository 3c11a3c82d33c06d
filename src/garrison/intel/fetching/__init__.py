"""Downloading feeds over HTTP(S): conditional requests, retries, limits and unpacking.

`fetch_feed` is the whole API; it raises only `FeedFetchError` for anything the network,
the server or the file can do wrong.
"""

from __future__ import annotations

from garrison.intel.fetching.download import FetchResult, FetchState, fetch_feed
from garrison.intel.fetching.errors import FeedFetchError, display_url
from garrison.intel.fetching.limits import FetchLimits

__all__ = [
    "FeedFetchError",
    "FetchLimits",
    "FetchResult",
    "FetchState",
    "display_url",
    "fetch_feed",
]
