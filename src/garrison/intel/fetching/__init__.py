"""Downloading feeds over HTTP(S): conditional requests, retries, limits and unpacking."""

from __future__ import annotations

from garrison.intel.fetching.errors import FeedFetchError, display_url

__all__ = ["FeedFetchError", "display_url"]
