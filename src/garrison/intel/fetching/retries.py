"""Trying an HTTP exchange again after a passing failure, within a deadline.

Shared by every client that talks to a feed provider (plain downloads, TAXII polling), so
they all retry the same failures the same way and fail with the same error.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from garrison.intel.fetching.errors import FeedFetchError, display_url
from garrison.intel.fetching.limits import FetchLimits

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIED_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
"""Transport failures that may pass: timeouts, refused or broken connections."""


class RetryableAnswer(Exception):
    """Raised by an attempt for an answer worth trying again (429 or 5xx)."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait
        """Seconds the server asked for (Retry-After), or None for the usual backoff."""

    @classmethod
    def check(cls, response: httpx.Response) -> None:
        """Raise for 429 and 5xx, the answers a later try may not get."""
        status = response.status_code
        if status == 429 or status >= 500:
            wait = retry_after(response.headers.get("retry-after"))
            raise cls(server_answer(response), status, wait)


def server_answer(response: httpx.Response) -> str:
    return f"the server answered HTTP {response.status_code} {response.reason_phrase}".rstrip()


def with_retries(
    attempt: Callable[[], T],
    *,
    url: str,
    limits: FetchLimits,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """The result of the first successful `attempt()` and how many tries it took.

    Transport failures and `RetryableAnswer` are tried again up to `limits.attempts` times,
    after an exponential backoff with jitter or the server's Retry-After, as long as the
    pause ends before `deadline` (a `time.monotonic()` value). Every other httpx failure,
    and the last retryable one, becomes a `FeedFetchError`."""
    tries = 0
    while True:
        tries += 1
        try:
            return attempt(), tries
        except RETRIED_ERRORS as error:
            retry = RetryableAnswer(describe(error, limits))
        except RetryableAnswer as answer:
            retry = answer
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise FeedFetchError(url, describe(error, limits)) from error
        if tries >= limits.attempts:
            counted = f"{tries} attempts" if tries > 1 else "1 attempt"
            raise FeedFetchError(
                url, f"{retry.reason} (gave up after {counted})", status=retry.status
            )
        pause = retry.wait if retry.wait is not None else backoff(tries, limits)
        if time.monotonic() + pause > deadline:
            raise FeedFetchError(
                url,
                f"{retry.reason}; waiting {pause:.1f} s to try again would pass the "
                f"{limits.total_timeout:g} s deadline",
                status=retry.status,
            )
        log.warning(
            "fetching %s: %s; try %d of %d in %.1f s",
            display_url(url),
            retry.reason,
            tries + 1,
            limits.attempts,
            pause,
        )
        sleep(pause)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent
    or unreadable, in which case the usual backoff applies."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff(tries: int, limits: FetchLimits) -> float:
    """Exponential, capped, with jitter so sources failing together do not retry in step."""
    ceiling = min(limits.backoff_max, limits.backoff_initial * 2.0 ** min(tries - 1, 30))
    return ceiling * random.uniform(0.5, 1.0)


def describe(error: Exception, limits: FetchLimits) -> str:
    """An httpx failure in words an operator can act on."""
    if isinstance(error, httpx.ConnectTimeout):
        return f"no connection within {limits.connect_timeout:g} s"
    if isinstance(error, httpx.ReadTimeout):
        return f"the server sent nothing for {limits.read_timeout:g} s (read timeout)"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out: {error}"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect: {error or 'connection refused'}"
    if isinstance(error, httpx.RemoteProtocolError | httpx.NetworkError):
        return f"the connection broke: {error or type(error).__name__}"
    if isinstance(error, httpx.DecodingError):
        return f"the server's content encoding is damaged: {error}"
    return f"{type(error).__name__}: {error}"
