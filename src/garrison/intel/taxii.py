"""TAXII 2.1: list a server's collections and poll one for the objects added since last time.

The objects of every page are collected and mapped by the STIX bundle code (`stix_items`),
because relationships, markings and sightings refer across pages. The poll returns the new
bookmark (the server's `X-TAXII-Date-Added-Last`) for the Source to keep, so the next poll
asks only for what was added after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from stix2.utils import parse_into_datetime  # type: ignore[import-untyped]
from taxii2client.common import _HTTPConnection  # type: ignore[import-untyped]
from taxii2client.exceptions import TAXIIServiceException  # type: ignore[import-untyped]
from taxii2client.v21 import Collection, Server  # type: ignore[import-untyped]

from garrison.intel.fetching import FeedFetchError, display_url
from garrison.intel.formats import ParsedItem
from garrison.intel.formats.stix2_bundle import stix_items

MEDIA_TYPE = "application/taxii+json;version=2.1"
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"
_CLIENT_ERRORS = (requests.RequestException, TAXIIServiceException, ValueError, KeyError, TypeError)
"""What taxii2-client lets through for a bad answer: HTTP errors, a wrong media type, a body
that is not JSON or lacks the fields of the resource, a missing Content-Type."""
MAX_PAGES = 10_000
"""A server that keeps saying `more` past this many pages is broken, not generous."""


@dataclass(frozen=True, slots=True)
class TaxiiCollection:
    """A collection as the server describes it; `url` is what `poll_collection` takes."""

    url: str
    id: str
    title: str
    description: str | None
    can_read: bool


@dataclass(slots=True)
class TaxiiPoll:
    """What one poll brought: the objects in server order and the bookmark for the next."""

    url: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    bookmark: datetime | None = None
    pages: int = 0

    def items(self) -> Iterator[ParsedItem]:
        """Events and problems for the objects, problems naming the collection's URL."""
        return stix_items(self.objects, source=display_url(self.url))


class _TimeoutAdapter(HTTPAdapter):
    """`requests` has no session-wide timeout; every request through this adapter gets one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request, stream, self.timeout if timeout is None else timeout, verify, cert, proxies
        )


class _BearerToken(AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class _Connection:
    """A taxii2-client connection with a timeout, and the last response kept for its headers
    (the client returns only the parsed body)."""

    def __init__(
        self, user: str | None, password: str | None, token: str | None, timeout: float
    ) -> None:
        auth = _BearerToken(token) if token else None
        self.http = _HTTPConnection(user, password, version="2.1", auth=auth)
        session: requests.Session = self.http.session
        adapter = _TimeoutAdapter(timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.hooks["response"].append(self._keep)
        self.timeout = timeout
        self.last: requests.Response | None = None

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response

    def failure(self, url: str, exc: Exception) -> FeedFetchError:
        """The error the caller sees, whatever layer raised `exc`."""
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            code = exc.response.status_code
            return FeedFetchError(url, f"HTTP {code} {exc.response.reason}", status=code)
        if isinstance(exc, requests.Timeout):
            return FeedFetchError(url, f"no answer within {self.timeout:g} s")
        if isinstance(exc, requests.ConnectionError):
            return FeedFetchError(url, f"cannot connect: {_first_line(exc)}")
        status = self.last.status_code if self.last is not None else None
        content_type = self.last.headers.get("Content-Type", "") if self.last else ""
        if content_type and not content_type.replace(" ", "").startswith("application/taxii+json"):
            reason = f"not a TAXII 2.1 answer (Content-Type {content_type!r})"
        else:
            reason = f"not a TAXII 2.1 answer: {_first_line(exc)}"
        return FeedFetchError(url, reason, status=status)

    def close(self) -> None:
        self.http.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _date_added(text: object) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment: datetime = parse_into_datetime(text.strip())
    except (ValueError, TypeError):
        return None
    return datetime.fromtimestamp(moment.timestamp(), UTC)


def _later(one: datetime | None, other: datetime | None) -> datetime | None:
    return max((t for t in (one, other) if t is not None), default=None)


def _envelope(url: str, answer: object) -> tuple[list[dict[str, Any]], bool, str | None]:
    if not isinstance(answer, dict):
        raise FeedFetchError(url, "not a TAXII 2.1 envelope (the answer is not a JSON object)")
    objects = answer.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(item, dict) for item in objects):
        raise FeedFetchError(url, 'not a TAXII 2.1 envelope ("objects" is not a list of objects)')
    more, token = answer.get("more", False), answer.get("next")
    if not isinstance(more, bool):
        raise FeedFetchError(url, 'not a TAXII 2.1 envelope ("more" is not true or false)')
    return objects, more, token if isinstance(token, str) and token else None


def poll_collection(
    url: str,
    *,
    added_after: datetime | None,
    user: str | None = None,
    password: str | None = None,
    token: str | None = None,
    timeout: float = 60.0,
    page_size: int | None = None,
) -> TaxiiPoll:
    """Every object added to the collection after `added_after` (all when None), following
    `more`/`next` pages. The bookmark is the latest X-TAXII-Date-Added-Last the server sent
    (or the objects' own `date_added`), else `added_after` unchanged. `user`/`password`
    go as HTTP Basic authentication, `token` as `Authorization: Bearer <token>`.

    Raises FeedFetchError, naming the URL, for HTTP errors, time-outs and answers that are
    not TAXII 2.1."""
    connection = _Connection(user, password, token, timeout)
    poll = TaxiiPoll(url, bookmark=added_after)
    try:
        collection = Collection(url, conn=connection.http)
        next_token: str | None = None
        after = added_after
        while True:
            if poll.pages >= MAX_PAGES:
                raise FeedFetchError(url, f"the server still says 'more' after {MAX_PAGES} pages")
            filters: dict[str, Any] = {"added_after": after, "next": next_token}
            if page_size:
                filters["limit"] = page_size
            answer = collection.get_objects(accept=MEDIA_TYPE, **filters)
            poll.pages += 1
            objects, more, next_token = _envelope(url, answer)
            poll.objects.extend(objects)
            header = connection.last.headers.get(DATE_ADDED_LAST) if connection.last else None
            page_last = _date_added(header) or max(
                (t for item in objects if (t := _date_added(item.get("date_added")))), default=None
            )
            poll.bookmark = _later(poll.bookmark, page_last)
            if not more:
                return poll
            if next_token is None:
                if page_last is None or (after is not None and page_last <= after):
                    raise FeedFetchError(
                        url, "the server says 'more' but gives neither 'next' nor a newer "
                        f"{DATE_ADDED_LAST}",
                    )  # fmt: skip
                after = page_last
    except _CLIENT_ERRORS as exc:
        raise connection.failure(url, exc) from exc
    finally:
        connection.close()


def list_collections(
    url: str,
    *,
    user: str | None = None,
    password: str | None = None,
    token: str | None = None,
    timeout: float = 60.0,
) -> list[TaxiiCollection]:
    """The collections of every API root a discovery URL names, for choosing a Source's URL."""
    connection = _Connection(user, password, token, timeout)
    try:
        server = Server(url, conn=connection.http)
        return [
            TaxiiCollection(
                collection.url,
                collection.id,
                collection.title,
                collection.description,
                bool(collection.can_read),
            )
            for api_root in server.api_roots
            for collection in api_root.collections
        ]
    except _CLIENT_ERRORS as exc:
        raise connection.failure(url, exc) from exc
    finally:
        connection.close()
