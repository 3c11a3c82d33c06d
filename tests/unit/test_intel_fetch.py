"""Feed fetching against a real HTTP server on loopback, serving the shared feed samples."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import socket
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from garrison.core.errors import GarrisonError
from garrison.intel.fetching import (
    FeedFetchError,
    FetchLimits,
    FetchResult,
    FetchState,
    display_url,
    fetch_feed,
)
from garrison.intel.fetching.retries import RetryableAnswer, with_retries

from feed_server import FeedServer, Reply, Seen

MIB = 1024 * 1024
FEODO = "feeds/abusech_feodotracker/feodoips.txt"
NTP = "feeds/shadowserver/scan_ntp.csv"
SINKHOLE = "feeds/shadowserver/event4_sinkhole.csv"
LIMITS = FetchLimits(
    connect_timeout=2, read_timeout=2, total_timeout=30, attempts=3, backoff_initial=1.0
)
HTML_REFUSED = "the server answered with an HTML page (a login or error page?) instead of the feed"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as feed:
        yield feed


@pytest.fixture
def other_server() -> Iterator[FeedServer]:
    """A second origin (another port), for redirects that leave the feed's host."""
    with FeedServer() as feed:
        yield feed


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client for the module: building one (its TLS context) costs more than a fetch.
    Tests that pass `client=None` exercise the client fetch_feed builds itself."""
    with httpx.Client(trust_env=False) as shared:
        yield shared


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "feeds"


@pytest.fixture
def fetch(folder: Path, sleeps: list[float], client: httpx.Client) -> Callable[..., FetchResult]:
    """fetch_feed with the test's folder and limits, sleeping into a list instead of time."""

    def run(url: str, **options: Any) -> FetchResult:
        options.setdefault("destination_dir", folder)
        options.setdefault("limits", LIMITS)
        options.setdefault("client", client)
        return fetch_feed(url, sleep=sleeps.append, **options)

    return run


def sample(shared_data: Path, name: str) -> bytes:
    return (shared_data / name).read_bytes()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".fetch-"))


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def conditional(body: bytes, *, etag: str | None = None, modified: str | None = None) -> Any:
    """An answer that honours If-None-Match / If-Modified-Since like a real feed server."""

    def answer(seen: Seen) -> Reply:
        validators = {"ETag": etag, "Last-Modified": modified}
        headers = {name: value for name, value in validators.items() if value}
        if (etag and seen.headers["If-None-Match"] == etag) or (
            modified and seen.headers["If-Modified-Since"] == modified
        ):
            return Reply(304, headers=headers, content_length=False)
        return Reply(200, body, {"Content-Type": "text/csv", **headers})

    return answer


# --- conditional requests ---------------------------------------------------------------


def test_etag_then_304_keeps_the_stored_file(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, folder: Path
) -> None:
    body = sample(shared_data, FEODO)
    url = server.route("/downloads/ipblocklist.csv", conditional(body, etag='"2b3-5bb1d4"'))

    first = fetch(url, client=None)

    assert (first.status, first.not_modified, first.changed) == (200, False, True)
    assert first.path == folder / "ipblocklist.csv"
    assert first.path.read_bytes() == body
    assert "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)" in first.path.read_text()
    assert first.sha256 == hashlib.sha256(body).hexdigest()
    assert first.etag == '"2b3-5bb1d4"'
    assert first.size == first.download_size == 699
    assert (first.name, first.original_name, first.archive) == ("ipblocklist.csv",) * 2 + (None,)
    assert first.document is not None and first.document.name == "ipblocklist.csv"
    assert first.attempts == 1 and first.elapsed > 0

    second = fetch(url, previous=first.state, client=None)

    assert (second.status, second.not_modified, second.changed) == (304, True, False)
    assert second.path is None and second.document is None
    assert second.state == first.state
    requests = server.hits("/downloads/ipblocklist.csv")
    assert requests[0].headers["If-None-Match"] is None
    assert requests[1].headers["If-None-Match"] == '"2b3-5bb1d4"'
    assert requests[1].headers["If-Modified-Since"] is None
    assert first.path.read_bytes() == body
    assert leftovers(folder) == []


def test_last_modified_is_echoed_back_verbatim(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    body = sample(shared_data, NTP)
    stamp = "Wed, 10 Feb 2021 13:34:57 GMT"
    url = server.route("/scan_ntp.csv", conditional(body, modified=stamp))

    first = fetch(url)
    second = fetch(url, previous=first.state)

    assert first.last_modified == stamp and first.etag is None
    assert second.not_modified
    assert second.state == FetchState(None, stamp, hashlib.sha256(body).hexdigest())
    assert server.hits("/scan_ntp.csv")[1].headers["If-Modified-Since"] == stamp


def test_changed_compares_content_when_the_server_ignores_validators(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    old, new = sample(shared_data, NTP), sample(shared_data, SINKHOLE)
    url = server.route("/report.csv", Reply(200, old), Reply(200, old), Reply(200, new))

    first = fetch(url)
    same = fetch(url, previous=first.state)
    different = fetch(url, previous=same.state)

    assert (first.changed, same.changed, different.changed) == (True, False, True)
    assert different.path is not None and different.path.read_bytes() == new


def test_304_to_an_unconditional_request_is_an_error(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    url = server.route("/feed.csv", Reply(304, content_length=False))

    for previous in (None, FetchState(sha256="0" * 64)):
        with pytest.raises(FeedFetchError, match="304 Not Modified to a request that was not"):
            fetch(url, previous=previous)
    assert server.hits("/feed.csv")[1].headers["If-None-Match"] is None


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "stored"),
    [
        (
            'attachment; filename="2024-03-04-scan_ntp-vietnam.csv"',
            "2024-03-04-scan_ntp-vietnam.csv",
        ),
        ("attachment; filename*=UTF-8''b%C3%A1o-c%C3%A1o.csv", "báo-cáo.csv"),
        ('attachment; filename="../../etc/cron.d/evil"', "evil"),
        ('attachment; filename=".hidden"', "hidden"),
        ("attachment", "download"),
    ],
)
def test_file_name_from_content_disposition_or_url(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
    folder: Path,
    disposition: str,
    stored: str,
) -> None:
    body = sample(shared_data, NTP)
    url = server.route("/download?id=7", Reply(200, body, {"Content-Disposition": disposition}))

    result = fetch(url)

    assert result.path == folder / stored
    assert result.name == result.original_name == stored
    assert result.path.read_bytes() == body


# --- gzip and zip -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "name"),
    [
        ("/scan_ntp.csv.gz", {"Content-Type": "application/octet-stream"}, "scan_ntp.csv"),
        ("/export", {"Content-Type": "application/gzip"}, "export"),
        ("/scan_ntp.csv", {"Content-Type": "text/csv"}, "scan_ntp.csv"),  # magic bytes only
    ],
)
def test_gzip_is_unpacked(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
    path: str,
    headers: dict[str, str],
    name: str,
) -> None:
    body = sample(shared_data, NTP)
    packed = gzip.compress(body, mtime=0)
    url = server.route(path, Reply(200, packed, headers))

    result = fetch(url)

    assert result.path is not None and result.path.read_bytes() == body
    assert result.path.read_text().startswith('"timestamp","ip","protocol","port"')
    assert (result.name, result.archive) == (name, "gzip")
    assert (result.size, result.download_size) == (len(body), len(packed))
    assert result.sha256 == hashlib.sha256(body).hexdigest()


def test_http_content_encoding_is_not_mistaken_for_a_gzip_file(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    """A server sending feed.txt.gz with Content-Encoding: gzip (a common misconfiguration):
    the HTTP client already removed the only gzip layer, so the content is plain text."""
    body = sample(shared_data, FEODO)
    url = server.route(
        "/feodo.txt.gz", Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    )
    twice = server.route(
        "/twice.txt.gz",
        Reply(200, gzip.compress(gzip.compress(body)), {"Content-Encoding": "gzip"}),
    )

    plain = fetch(url)
    inner = fetch(twice)

    assert plain.path is not None and plain.path.read_bytes() == body
    assert (plain.name, plain.archive, plain.download_size) == ("feodo.txt", None, 699)
    assert inner.path is not None and inner.path.read_bytes() == body
    assert (inner.name, inner.archive) == ("twice.txt", "gzip")


def test_zip_with_one_member(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, folder: Path
) -> None:
    body = sample(shared_data, SINKHOLE)
    url = server.route("/report.zip", Reply(200, zipped({"2021-03-04/event4_sinkhole.csv": body})))

    result = fetch(url)

    assert result.path == folder / "event4_sinkhole.csv"
    assert result.path.read_bytes() == body
    assert '"2021-03-04 00:00:00","tcp","190.113.1.2"' in result.path.read_text()
    assert (result.original_name, result.archive) == ("report.zip", "zip")
    assert list(folder.iterdir()) == [result.path]


def test_zip_with_several_members_needs_one_named(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, folder: Path
) -> None:
    members = {
        "reports/scan_ntp.csv": sample(shared_data, NTP),
        "reports/event4_sinkhole.csv": sample(shared_data, SINKHOLE),
        "reports/": b"",
    }
    url = server.route("/daily.zip", Reply(200, zipped(members)))

    with pytest.raises(FeedFetchError) as caught:
        fetch(url)
    assert "holds 2 files; say which one to read" in str(caught.value)
    assert "reports/scan_ntp.csv, reports/event4_sinkhole.csv" in str(caught.value)
    assert list(folder.iterdir()) == []

    by_name = fetch(url, member="scan_ntp.csv")
    by_path = fetch(url, member="reports/event4_sinkhole.csv")

    assert by_name.path is not None and by_name.path.read_bytes() == members["reports/scan_ntp.csv"]
    assert by_path.name == "event4_sinkhole.csv"

    with pytest.raises(FeedFetchError, match=r"no member named 'blocklist.csv': reports/scan"):
        fetch(url, member="blocklist.csv")


def test_member_of_something_that_is_not_a_zip(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    url = server.route("/feed.csv", Reply(200, sample(shared_data, NTP)))

    with pytest.raises(FeedFetchError, match=r"member 'x\.csv' was asked for, but the download"):
        fetch(url, member="x.csv")


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_truncated_gzip(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
    folder: Path,
    cut: float,
) -> None:
    packed = gzip.compress(sample(shared_data, "feeds/shadowserver_legacy/botnet_drone.csv"))
    url = server.route("/drone.csv.gz", Reply(200, packed[: int(len(packed) * cut)]))

    with pytest.raises(FeedFetchError, match="the gzip file is truncated") as caught:
        fetch(url)

    assert caught.value.url == url and caught.value.status is None
    assert list(folder.iterdir()) == []


def test_damaged_gzip(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    packed = bytearray(gzip.compress(sample(shared_data, NTP)))
    packed[-6] ^= 0xFF  # inside the CRC-32 trailer
    url = server.route("/scan.csv.gz", Reply(200, bytes(packed)))

    with pytest.raises(FeedFetchError, match="the gzip file is damaged: CRC check failed"):
        fetch(url)


@pytest.mark.parametrize("cut", [0.3, 0.95])
def test_truncated_zip(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
    folder: Path,
    cut: float,
) -> None:
    packed = zipped({"scan_ntp.csv": sample(shared_data, NTP)})
    url = server.route("/scan.zip", Reply(200, packed[: int(len(packed) * cut)]))

    with pytest.raises(FeedFetchError, match="the zip archive is truncated or damaged"):
        fetch(url)
    assert list(folder.iterdir()) == []


@dataclass(frozen=True)
class Deflated:
    data: bytes
    crc: int
    size: int


@pytest.fixture(scope="module")
def zeros() -> Deflated:
    """200 MiB of zeros as one raw deflate stream (about 200 KiB), built 1 MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, crc, parts = bytes(MIB), 0, []
    for _ in range(200):
        parts.append(packer.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(packer.flush())
    return Deflated(b"".join(parts), crc, 200 * MIB)


def as_gzip(stream: Deflated) -> bytes:
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + stream.data + struct.pack("<II", stream.crc, stream.size & 0xFFFFFFFF)


def as_zip(stream: Deflated, name: bytes = b"zeros.csv", declared: int | None = None) -> bytes:
    """A one-member zip around a ready deflate stream; `declared` lets the header lie."""
    size = stream.size if declared is None else declared
    sizes = (stream.crc, len(stream.data), size, len(name))
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0) + name
    central = (
        struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, 0)
        + name
    )
    offset = len(local) + len(stream.data)
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), offset, 0)
    return local + stream.data + central + end


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_decompression_bomb_is_stopped_by_the_ratio(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    folder: Path,
    zeros: Deflated,
    kind: str,
) -> None:
    body = as_gzip(zeros) if kind == "gzip" else as_zip(zeros)
    url = server.route(f"/bomb.{kind}", Reply(200, body))

    started = time.monotonic()
    with pytest.raises(FeedFetchError, match="expands more than 200 times") as caught:
        fetch(url)

    assert "refused as a possible zip bomb" in str(caught.value)
    assert time.monotonic() - started < 10
    assert list(folder.iterdir()) == []


def test_zip_bomb_whose_header_understates_its_size(
    server: FeedServer, fetch: Callable[..., FetchResult], folder: Path, zeros: Deflated
) -> None:
    url = server.route("/liar.zip", Reply(200, as_zip(zeros, declared=1000)))

    with pytest.raises(FeedFetchError, match=r"zip member 'zeros\.csv' is truncated or damaged"):
        fetch(url)
    assert list(folder.iterdir()) == []


def test_unpacked_size_limit(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, zeros: Deflated
) -> None:
    limits = FetchLimits(max_uncompressed_bytes=10_000)
    body = sample(shared_data, "feeds/shadowserver_legacy/botnet_drone.csv")
    url = server.route("/drone.csv.gz", Reply(200, gzip.compress(body)))
    announced = server.route("/zeros.zip", Reply(200, as_zip(zeros)))

    with pytest.raises(FeedFetchError, match=r"the gzip file unpacks to more than 9\.8 KiB"):
        fetch(url, limits=limits)
    with pytest.raises(FeedFetchError, match=r"zip member 'zeros\.csv' announces more than"):
        fetch(announced, limits=limits)


# --- size -------------------------------------------------------------------------------


def test_announced_size_over_the_limit_is_refused_before_reading(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    url = server.route("/big.csv", Reply(200, b"203.0.113.7\n" * 400))

    with pytest.raises(FeedFetchError, match=r"announces 4\.7 KiB, over the limit of 1000 bytes"):
        fetch(url, limits=FetchLimits(max_download_bytes=1000))
    assert len(server.hits("/big.csv")) == 1


def test_size_limit_without_content_length(
    server: FeedServer, fetch: Callable[..., FetchResult], folder: Path
) -> None:
    url = server.route("/big.csv", Reply(200, b"203.0.113.7\n" * 400_000, content_length=False))

    with pytest.raises(
        FeedFetchError, match=r"larger than the limit of 1\.0 MiB; the download was"
    ):
        fetch(url, limits=FetchLimits(max_download_bytes=MIB))
    assert list(folder.iterdir()) == []


def test_size_limit_counts_decoded_bytes_not_the_content_length(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    """Content-Length is the encoded size: a small gzip-encoded body may decode to a lot."""
    encoded = gzip.compress(bytes(100_000))
    assert len(encoded) < 1000
    url = server.route("/small.csv", Reply(200, encoded, {"Content-Encoding": "gzip"}))

    with pytest.raises(FeedFetchError, match="larger than the limit of 1000 bytes"):
        fetch(url, limits=FetchLimits(max_download_bytes=1000))


# --- retries ------------------------------------------------------------------------------


def test_500_then_200_is_retried(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, sleeps: list[float]
) -> None:
    body = sample(shared_data, FEODO)
    url = server.route("/feed.txt", Reply(500, b"oops"), Reply(200, body))

    result = fetch(url)

    assert result.attempts == 2 and len(server.hits("/feed.txt")) == 2
    assert result.path is not None and result.path.read_bytes() == body
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0


def test_permanent_500_gives_up_after_the_attempts(
    server: FeedServer, fetch: Callable[..., FetchResult], folder: Path, sleeps: list[float]
) -> None:
    url = server.route("/feed.txt", Reply(500, b"Internal Server Error"))
    limits = FetchLimits(attempts=4, backoff_initial=1.0, backoff_max=3.0)

    started = time.monotonic()
    with pytest.raises(FeedFetchError) as caught:
        fetch(url, limits=limits)

    assert str(caught.value) == (
        f"fetching {url} failed: the server answered HTTP 500 Internal Server Error "
        "(gave up after 4 attempts)"
    )
    assert caught.value.status == 500
    assert len(server.hits("/feed.txt")) == 4
    assert len(sleeps) == 3
    for pause, (low, high) in zip(sleeps, [(0.5, 1), (1, 2), (1.5, 3)], strict=True):
        assert low <= pause <= high
    assert time.monotonic() - started < 5
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_are_not_retried(
    server: FeedServer, fetch: Callable[..., FetchResult], sleeps: list[float], status: int
) -> None:
    url = server.route("/feed.txt", Reply(status, b"no"))

    with pytest.raises(FeedFetchError, match=f"the server answered HTTP {status} ") as caught:
        fetch(url)

    assert caught.value.status == status
    assert len(server.hits("/feed.txt")) == 1 and sleeps == []


def test_connection_refused_is_retried_then_reported(
    fetch: Callable[..., FetchResult], sleeps: list[float]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(FeedFetchError, match=r"cannot connect: .* \(gave up after 3 attempts\)"):
        fetch(f"http://127.0.0.1:{port}/feed.csv")
    assert len(sleeps) == 2


def test_silent_server_hits_the_read_timeout(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, sleeps: list[float]
) -> None:
    url = server.route("/slow.csv", Reply(200, b"x", hang=10))
    quick = FetchLimits(read_timeout=0.5, attempts=1)

    started = time.monotonic()
    with pytest.raises(FeedFetchError, match=r"sent nothing for 0\.5 s \(read timeout\)"):
        fetch(url, limits=quick)
    assert time.monotonic() - started < 3

    body = sample(shared_data, FEODO)
    url = server.route("/flaky.csv", Reply(200, body, hang=10), Reply(200, body))
    result = fetch(url, limits=FetchLimits(read_timeout=0.5, attempts=2, backoff_initial=1))
    assert result.attempts == 2 and len(sleeps) == 1


def test_slow_drip_hits_the_total_deadline(
    server: FeedServer, fetch: Callable[..., FetchResult], folder: Path
) -> None:
    url = server.route("/drip.csv", Reply(200, b"203.0.113.9\n" * 100, drip=0.05))

    started = time.monotonic()
    with pytest.raises(FeedFetchError, match=r"did not finish within the 0\.5 s deadline"):
        fetch(url, limits=FetchLimits(read_timeout=2, total_timeout=0.5))
    assert time.monotonic() - started < 3
    assert list(folder.iterdir()) == []


def test_retry_after_in_seconds_is_honoured(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, sleeps: list[float]
) -> None:
    body = sample(shared_data, FEODO)
    url = server.route("/feed.txt", Reply(429, headers={"Retry-After": "7"}), Reply(200, body))

    result = fetch(url)

    assert sleeps == [7.0] and result.attempts == 2


def test_retry_after_as_a_date_is_honoured(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, sleeps: list[float]
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    body = sample(shared_data, FEODO)
    url = server.route("/feed.txt", Reply(503, headers={"Retry-After": later}), Reply(200, body))

    fetch(url)

    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_retry_after_past_the_deadline_fails_at_once(
    server: FeedServer, fetch: Callable[..., FetchResult], sleeps: list[float]
) -> None:
    url = server.route("/feed.txt", Reply(503, headers={"Retry-After": "3600"}))

    with pytest.raises(FeedFetchError, match=r"waiting 3600\.0 s to try again would pass the 30 s"):
        fetch(url)
    assert sleeps == [] and len(server.hits("/feed.txt")) == 1


# --- HTML instead of the feed ---------------------------------------------------------------


LOGIN_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>...</body></html>\n"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=utf-8", b"203.0.113.7\n"),
        ("text/csv", LOGIN_PAGE),
        ("application/octet-stream", "\ufeff\r\n  <HTML lang='vi'><body>Lỗi</body>".encode()),
        ("text/plain", b"<?xml version='1.0'?>\n<!doctype html><html></html>"),
    ],
)
def test_html_instead_of_the_feed_is_refused(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    folder: Path,
    content_type: str,
    body: bytes,
) -> None:
    url = server.route("/feed.csv", Reply(200, body, {"Content-Type": content_type}))

    with pytest.raises(FeedFetchError) as caught:
        fetch(url)

    assert str(caught.value) == f"fetching {url} failed: {HTML_REFUSED}"
    assert caught.value.status == 200
    assert list(folder.iterdir()) == []


def test_html_inside_a_gzip_is_refused_too(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    url = server.route("/feed.csv.gz", Reply(200, gzip.compress(LOGIN_PAGE)))

    with pytest.raises(FeedFetchError, match="HTML page"):
        fetch(url)


def test_html_is_accepted_when_expected(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    url = server.route("/page.html", Reply(200, LOGIN_PAGE, {"Content-Type": "text/html"}))

    result = fetch(url, expect_html=True)

    assert result.path is not None and result.path.read_bytes() == LOGIN_PAGE


def test_failed_fetch_keeps_the_previous_file(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path, folder: Path
) -> None:
    body = sample(shared_data, FEODO)
    url = server.route(
        "/feed.txt",
        Reply(200, body),
        Reply(200, LOGIN_PAGE, {"Content-Type": "text/plain"}),
        Reply(200, gzip.compress(body)[:100]),
    )
    first = fetch(url)

    with pytest.raises(FeedFetchError, match="HTML page"):
        fetch(url, previous=first.state)
    with pytest.raises(FeedFetchError, match="truncated"):
        fetch(url, previous=first.state)

    assert first.path is not None and first.path.read_bytes() == body
    assert list(folder.iterdir()) == [first.path]


# --- credentials, redirects, proxies --------------------------------------------------------


def test_api_key_header_and_basic_auth_are_sent(
    server: FeedServer, fetch: Callable[..., FetchResult], shared_data: Path
) -> None:
    url = server.route("/feed.txt", Reply(200, sample(shared_data, FEODO)))

    fetch(url, headers={"X-Api-Key": "k3y"}, basic_auth=("csirt", "mật khẩu"))

    seen = server.hits("/feed.txt")[0].headers
    assert seen["X-Api-Key"] == "k3y"
    assert seen["Authorization"] == "Basic " + base64.b64encode("csirt:mật khẩu".encode()).decode()
    assert seen["User-Agent"].startswith("Garrison/")


def test_credentials_do_not_follow_a_redirect_to_another_host(
    server: FeedServer,
    other_server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
) -> None:
    body = sample(shared_data, FEODO)
    target = other_server.route("/bucket/feodo.txt?sig=abc", Reply(200, body))
    url = server.route("/feed", Reply(302, headers={"Location": target}))
    server.route("/same", Reply(301, headers={"Location": "/feed"}))

    result = fetch(server.url("/same"), headers={"X-Api-Key": "k3y"}, basic_auth=("u", "p"))

    assert result.path is not None and result.path.read_bytes() == body
    assert result.url == display_url(target) and "sig=***" in result.url
    assert result.name == "feodo.txt"
    for hop in server.requests:
        assert hop.headers["X-Api-Key"] == "k3y" and hop.headers["Authorization"]
    [away] = other_server.requests
    assert away.headers["X-Api-Key"] is None and away.headers["Authorization"] is None
    assert away.headers["User-Agent"].startswith("Garrison/")
    assert url == server.url("/feed")


def test_redirect_loop(server: FeedServer, fetch: Callable[..., FetchResult]) -> None:
    url = server.route("/loop", Reply(302, headers={"Location": "/loop"}))

    with pytest.raises(FeedFetchError, match="more than 3 redirects"):
        fetch(url, limits=FetchLimits(max_redirects=3))
    assert len(server.hits("/loop")) == 4


def test_proxy_environment_is_ignored(
    server: FeedServer,
    fetch: Callable[..., FetchResult],
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = server.route("/feed.txt", Reply(200, sample(shared_data, FEODO)))

    assert fetch(url, client=None).status == 200


def test_error_messages_hide_credentials(
    server: FeedServer, fetch: Callable[..., FetchResult]
) -> None:
    url = server.url("/missing.csv?apikey=s3cret&day=2024-03-04").replace(
        "http://", "http://csirt:pa55word@"
    )

    with pytest.raises(FeedFetchError) as caught:
        fetch(url)

    message = str(caught.value)
    assert "apikey=***&day=2024-03-04" in message
    assert "s3cret" not in message and "pa55word" not in message and "csirt" not in message
    assert server.hits("/missing.csv?apikey=s3cret&day=2024-03-04")[0].headers["Authorization"]
    assert isinstance(caught.value, GarrisonError)


def test_bad_url_and_scheme(fetch: Callable[..., FetchResult]) -> None:
    with pytest.raises(FeedFetchError, match="unsupported protocol"):
        fetch("ftp://127.0.0.1/feed.csv")
    with pytest.raises(FeedFetchError):
        fetch("http://[::1/feed.csv")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"FetchLimits\.attempts must be positive"):
        FetchLimits(attempts=0)


def test_with_retries_serves_other_http_clients(sleeps: list[float]) -> None:
    """The retry loop on its own, as a TAXII poller would use it."""
    outcomes: list[object] = [
        RetryableAnswer("the server answered HTTP 503", 503, wait=2.0),
        httpx.ConnectError("refused"),
        "collections",
    ]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    deadline = time.monotonic() + 60
    value, tries = with_retries(
        attempt,
        url="https://taxii.example/api/",
        limits=LIMITS,
        deadline=deadline,
        sleep=sleeps.append,
    )

    assert (value, tries) == ("collections", 3)
    assert sleeps[0] == 2.0 and 1.0 <= sleeps[1] <= 2.0

    def refused() -> str:
        raise httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'.")

    with pytest.raises(FeedFetchError, match=r"taxii\.example/api/ failed: UnsupportedProtocol"):
        with_retries(refused, url="https://taxii.example/api/", limits=LIMITS, deadline=deadline)
