"""Property tests: whatever a feed server sends, fetching fails only with FeedFetchError.

Bodies and headers are served by a real loopback server; archives are also fed straight to
the unpacking layer, whole, cut short or with bytes flipped.
"""

from __future__ import annotations

import gzip
import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.intel.fetching import FeedFetchError, FetchLimits, FetchState, fetch_feed
from garrison.intel.fetching.archives import unpack
from garrison.intel.fetching.storage import PartialFile

from feed_server import FeedServer, Reply

LIMITS = FetchLimits(
    max_download_bytes=16_384,
    max_uncompressed_bytes=65_536,
    max_compression_ratio=50,
    ratio_grace_bytes=0,
    connect_timeout=2,
    read_timeout=2,
    total_timeout=10,
    attempts=2,
)
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _damaged(data: bytes, draw: st.DrawFn) -> bytes:
    """Cut short, or with a few bytes flipped: what a broken transfer or disk leaves."""
    if not data:
        return data
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data)))]
    damaged = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        damaged[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(damaged)


_plain = st.one_of(
    st.binary(max_size=4096),
    st.sampled_from(
        [
            b"203.0.113.7\n198.51.100.0/24\n",
            b"<!DOCTYPE html><html><body>Sign in</body></html>",
            b"\xef\xbb\xbf<html>",
            b'"timestamp","ip"\n"2024-03-04 00:00:00",203.0.113.7\n',
            bytes(40_000),
        ]
    ),
)
_member_names = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=30
)


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    content = draw(_plain)
    kind = draw(st.sampled_from(["plain", "gzip", "zip", "zip-many"]))
    if kind == "plain":
        return content
    if kind == "gzip":
        packed = gzip.compress(content)
    else:
        names = draw(st.lists(_member_names, min_size=1 if kind == "zip" else 2, max_size=3))
        packed = _zipped({name: content for name in names})
    return _damaged(packed, draw) if draw(st.booleans()) else packed


_header_text = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60
)


@st.composite
def _replies(draw: st.DrawFn) -> Reply:
    headers: dict[str, str] = {}
    optional = {
        "Content-Type": st.sampled_from(
            ["text/csv", "text/html", "application/gzip", "application/zip", "TEXT/HTML;x=1", ""]
        )
        | _header_text,
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "identity", "br", "zstd", "x"]),
        "Content-Disposition": st.sampled_from(
            ["attachment; filename=", "attachment; filename*=UTF-8''", "inline; filename*="]
        ).flatmap(lambda start: _header_text.map(lambda rest: start + rest))
        | _header_text,
        "ETag": _header_text,
        "Last-Modified": _header_text,
        "Retry-After": st.sampled_from(["0", "1", "-5", "soon", "99999999999999999999"])
        | _header_text,
        "Location": st.sampled_from(["/feed", "//", "http://[::1", "ftp://x/", "/elsewhere"]),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            headers[name] = draw(strategy)
    status = draw(st.sampled_from([200, 200, 200, 203, 204, 206, 301, 304, 404, 429, 500, 503]))
    return Reply(status, draw(_bodies()), headers, content_length=draw(st.booleans()))


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed:
        yield feed


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client for every example: building one (its TLS context) costs more than a fetch."""
    with httpx.Client(trust_env=False) as shared:
        yield shared


@FUZZ
@given(
    replies=st.lists(_replies(), min_size=1, max_size=3),
    previous=st.none() | st.builds(FetchState, _header_text, _header_text, st.none()),
    member=st.none() | _member_names,
)
def test_served_bodies_and_headers_fail_only_cleanly(
    server: FeedServer,
    client: httpx.Client,
    replies: list[Reply],
    previous: FetchState | None,
    member: str | None,
) -> None:
    server.reset()
    server.route("/feed", *replies)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        try:
            result = fetch_feed(
                server.url("/feed"),
                destination_dir=folder,
                previous=previous,
                limits=LIMITS,
                member=member,
                client=client,
                sleep=lambda seconds: None,
            )
        except FeedFetchError as error:
            assert error.url.startswith(server.base)
            stored = list(folder.iterdir())
            assert stored == [], f"a failed fetch left {stored}"
            return
        if result.not_modified:
            assert result.path is None and previous is not None
            assert list(folder.iterdir()) == []
        else:
            assert result.path is not None and result.path.parent == folder
            assert [p.name for p in folder.iterdir()] == [result.path.name]
            assert result.size == result.path.stat().st_size <= LIMITS.max_uncompressed_bytes
            assert not result.path.name.startswith(".")


@settings(max_examples=200, deadline=None)
@given(
    body=_bodies(),
    name=st.sampled_from(["feed.csv", "feed.csv.gz", "x.zip", "a.gzip"]),
    member=st.none() | _member_names,
)
def test_unpacking_fails_only_cleanly(body: bytes, name: str, member: str | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        with PartialFile(folder, "http://127.0.0.1/feed") as download:
            download.write(body)
            try:
                unpacked = unpack(download, name, member=member, limits=LIMITS)
            except FeedFetchError:
                assert [p.name for p in folder.iterdir()] == [download.path.name]
                return
            with unpacked.content as content:
                assert unpacked.name and not unpacked.name.startswith(".")
                assert content.size <= LIMITS.max_uncompressed_bytes
                if unpacked.archive is None:
                    assert content.path.read_bytes() == body
                else:
                    assert content.path != download.path
