"""Fetching one feed over HTTP(S): conditional, retried, bounded, and stored atomically."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import httpx

from garrison import __version__
from garrison.intel.fetching.archives import unpack
from garrison.intel.fetching.errors import FeedFetchError, display_url
from garrison.intel.fetching.limits import FetchLimits, human_size
from garrison.intel.fetching.retries import RetryableAnswer, server_answer, with_retries
from garrison.intel.fetching.storage import PartialFile, safe_file_name
from garrison.intel.formats import FeedDocument

log = logging.getLogger(__name__)

USER_AGENT = f"Garrison/{__version__} (CSIRT feed fetcher)"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_STARTS = (b"<!doctype html", b"<html")
_HTML_SNIFF = 1024
_HTML_REFUSED = "the server answered with an HTML page (a login or error page?) instead of the feed"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchState:
    """What a source remembers between fetches, to ask the server "only if it changed"."""

    etag: str | None = None
    last_modified: str | None = None
    """The Last-Modified header exactly as the server sent it; it is echoed back verbatim."""
    sha256: str | None = None
    """Of the stored (unpacked) content: an unchanged file need not be parsed again."""


@dataclass(frozen=True)
class FetchResult:
    """The outcome of a fetch that did not fail. Store `state` on the source for next time."""

    url: str
    """The URL finally answered, after redirects, with credentials hidden."""
    status: int
    state: FetchState
    elapsed: float
    """Seconds, from the first request to the stored file (pauses between tries included)."""
    attempts: int
    not_modified: bool = False
    """The server answered 304: nothing was downloaded and the previous file stays valid."""
    changed: bool = False
    """The stored content differs from the previous fetch (by sha256)."""
    path: Path | None = None
    name: str | None = None
    """The stored content's file name: the archive member, or the served name without .gz."""
    original_name: str | None = None
    """The file name as served (Content-Disposition, else the URL path)."""
    size: int | None = None
    """Bytes stored, after unpacking."""
    download_size: int | None = None
    archive: str | None = None
    """'gzip' or 'zip' when the download was unpacked."""

    @property
    def sha256(self) -> str | None:
        return self.state.sha256

    @property
    def etag(self) -> str | None:
        return self.state.etag

    @property
    def last_modified(self) -> str | None:
        return self.state.last_modified

    @property
    def document(self) -> FeedDocument | None:
        """The stored file ready for a feed format's parser; None when not modified."""
        if self.path is None or self.name is None:
            return None
        return FeedDocument(self.path, self.name)


@dataclass(frozen=True)
class _Request:
    """Everything one fetch sends; credentials go only to the origin of the feed URL."""

    url: str
    previous: FetchState | None
    credentials: Mapping[str, str]
    basic_auth: tuple[str, str] | None
    destination_dir: Path
    limits: FetchLimits
    expect_html: bool
    deadline: float

    @property
    def conditional(self) -> bool:
        return self.previous is not None and bool(self.previous.etag or self.previous.last_modified)

    def headers_for(self, target: httpx.URL) -> list[tuple[bytes, bytes]]:
        """Headers as bytes: a validator or key outside ASCII goes as UTF-8 rather than
        making the HTTP client refuse the request."""
        headers = {"User-Agent": USER_AGENT}
        if self.previous is not None and self.previous.etag:
            headers["If-None-Match"] = self.previous.etag
        if self.previous is not None and self.previous.last_modified:
            headers["If-Modified-Since"] = self.previous.last_modified
        if self.same_origin(target):
            headers.update(self.credentials)
        return [(name.encode(), value.encode()) for name, value in headers.items()]

    def auth_for(self, target: httpx.URL) -> httpx.Auth | httpx._client.UseClientDefault | None:
        if not self.same_origin(target):
            return None
        if self.basic_auth is not None:
            return httpx.BasicAuth(*self.basic_auth)
        return httpx.USE_CLIENT_DEFAULT

    def same_origin(self, target: httpx.URL) -> bool:
        first = httpx.URL(self.url)
        return (first.scheme, first.host, first.port) == (target.scheme, target.host, target.port)

    def timeout(self) -> httpx.Timeout:
        remaining = max(self.deadline - time.monotonic(), 0.001)
        limits = self.limits
        return httpx.Timeout(
            min(limits.read_timeout, remaining), connect=min(limits.connect_timeout, remaining)
        )

    def fail(self, reason: str, status: int | None = None) -> FeedFetchError:
        return FeedFetchError(self.url, reason, status=status)


@dataclass(frozen=True)
class _Answer:
    status: int
    url: httpx.URL
    headers: httpx.Headers
    body: PartialFile | None
    """None for 304 Not Modified."""


def fetch_feed(
    url: str,
    *,
    destination_dir: Path,
    previous: FetchState | None = None,
    limits: FetchLimits = FetchLimits(),  # noqa: B008 - frozen, so sharing it is safe
    headers: Mapping[str, str] | None = None,
    basic_auth: tuple[str, str] | None = None,
    member: str | None = None,
    expect_html: bool = False,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Download `url` into `destination_dir` (one folder per source), unpacking gzip/zip.

    The stored file replaces the previous one only once complete; on any failure a
    `FeedFetchError` is raised and the previous file is left as it was. `headers` (an API
    key header, say) and `basic_auth` are sent to the feed's origin only, never to another
    host a redirect leads to. Without `client`, a client that ignores proxy environment
    variables is used; pass one to set a proxy or a CA bundle."""
    started = time.monotonic()
    request = _Request(
        url,
        previous,
        dict(headers or {}),
        basic_auth,
        destination_dir,
        limits,
        expect_html,
        started + limits.total_timeout,
    )
    try:
        destination_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise request.fail(f"cannot create {destination_dir}: {error}") from error
    http = client if client is not None else httpx.Client(trust_env=False)
    try:
        answer, attempts = with_retries(
            lambda: _attempt(http, request),
            url=url,
            limits=limits,
            deadline=request.deadline,
            sleep=sleep,
        )
    finally:
        if client is None:
            http.close()
    if answer.body is None:
        return _not_modified(request, answer, attempts, started)
    with answer.body as download:
        original_name = _served_name(answer, url)
        unpacked = unpack(download, original_name, member=member, limits=limits)
        with unpacked.content as content:
            if not expect_html:
                _refuse_html_body(request, content.head(_HTML_SNIFF), answer.status)
            path = destination_dir / safe_file_name(unpacked.name)
            content.commit(path)
    state = FetchState(
        answer.headers.get("etag"), answer.headers.get("last-modified"), content.sha256
    )
    result = FetchResult(
        url=display_url(str(answer.url)),
        status=answer.status,
        state=state,
        elapsed=time.monotonic() - started,
        attempts=attempts,
        changed=previous is None or previous.sha256 != content.sha256,
        path=path,
        name=path.name,
        original_name=original_name,
        size=content.size,
        download_size=download.size,
        archive=unpacked.archive,
    )
    log.info("fetched %s: %s, %s", result.url, path.name, human_size(content.size))
    return result


def _not_modified(request: _Request, answer: _Answer, attempts: int, started: float) -> FetchResult:
    previous = request.previous or FetchState()
    # A 304 may refresh the validators (RFC 9110 §15.4.5); the content, and its hash, stay.
    state = FetchState(
        answer.headers.get("etag", previous.etag),
        answer.headers.get("last-modified", previous.last_modified),
        previous.sha256,
    )
    return FetchResult(
        url=display_url(str(answer.url)),
        status=answer.status,
        state=state,
        elapsed=time.monotonic() - started,
        attempts=attempts,
        not_modified=True,
    )


def _attempt(http: httpx.Client, request: _Request) -> _Answer:
    """One try, following redirects by hand so credentials never leave the feed's origin."""
    target = httpx.URL(request.url)
    for _ in range(request.limits.max_redirects + 1):
        with http.stream(
            "GET",
            target,
            headers=request.headers_for(target),
            auth=request.auth_for(target),
            follow_redirects=False,
            timeout=request.timeout(),
        ) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                target = response.url.join(location)
                continue
            return _receive(response, request)
    raise request.fail(f"more than {request.limits.max_redirects} redirects")


def _receive(response: httpx.Response, request: _Request) -> _Answer:
    status = response.status_code
    if status == 304:
        if not request.conditional:
            reason = f"{server_answer(response)} to a request that was not conditional"
            raise request.fail(reason, status)
        return _Answer(status, response.url, response.headers, None)
    RetryableAnswer.check(response)
    if not 200 <= status < 300 or status == 206:
        raise request.fail(server_answer(response), status)
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not request.expect_html and media_type in _HTML_TYPES:
        raise request.fail(_HTML_REFUSED, status)
    limit = request.limits.max_download_bytes
    announced = response.headers.get("content-length", "")
    if announced.isascii() and announced.isdigit() and int(announced) > limit:
        raise request.fail(
            f"the server announces {human_size(int(announced))}, over the limit of "
            f"{human_size(limit)}",
            status,
        )
    body = PartialFile(request.destination_dir, request.url)
    try:
        for chunk in response.iter_bytes():
            if body.size + len(chunk) > limit:
                raise request.fail(
                    f"the feed is larger than the limit of {human_size(limit)}; "
                    "the download was stopped",
                    status,
                )
            body.write(chunk)
            if time.monotonic() > request.deadline:
                raise request.fail(
                    f"the download did not finish within the "
                    f"{request.limits.total_timeout:g} s deadline",
                    status,
                )
        body.finish()
    except BaseException:
        body.discard()
        raise
    return _Answer(status, response.url, response.headers, body)


def _refuse_html_body(request: _Request, head: bytes, status: int) -> None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<?xml"):
        text = text.partition(b"?>")[2].lstrip()
    if text.startswith(_HTML_STARTS):
        raise request.fail(_HTML_REFUSED, status)


def _served_name(answer: _Answer, url: str) -> str:
    disposition = answer.headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        name = message.get_filename()
        if name and safe_file_name(name, ""):
            return safe_file_name(name)
    for candidate in (answer.url, httpx.URL(url)):
        name = PurePosixPath(unquote(candidate.path)).name
        if safe_file_name(name, ""):
            return safe_file_name(name)
    return "feed"
