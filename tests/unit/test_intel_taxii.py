"""TAXII 2.1 polling against a stub server on 127.0.0.1 built from recorded responses.

The stub answers discovery, the API root, its collections and their objects with the TAXII
media type, pages the objects (`more`/`next`, the server's own page limit) and filters them
by `added_after`, like a real server. The objects are the shared STIX samples, each given a
`date_added`.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from garrison.core.errors import RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.fetching import FeedFetchError
from garrison.intel.taxii import list_collections, poll_collection
from garrison.intel.types import IndicatorType

RECORDED = Path(__file__).resolve().parents[1] / "data" / "intel" / "taxii"
TAXII = "application/taxii+json;version=2.1"
GOOD = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
FAILING = "52892447-4d7e-4f70-b94d-d7f22742ff63"
HTML = "64993447-4d7e-4f70-b94d-d7f22742ff63"
PRIVATE = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
TOKEN = "s3cret-token"
SERVER_PAGE = 25
START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StubServer:
    """State of the stub: objects per collection, and what the tests ask it to do."""

    base: str = ""
    records: dict[str, list[tuple[datetime, dict[str, Any]]]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    omit_next: bool = False
    delay: float = 0.0

    def add(self, collection: str, objects: list[dict[str, Any]], first: datetime) -> None:
        stored = self.records.setdefault(collection, [])
        stored.extend((first + timedelta(seconds=i), obj) for i, obj in enumerate(objects))

    def recorded(self, name: str) -> bytes:
        return (RECORDED / name).read_text(encoding="utf-8").replace("{base}", self.base).encode()


class Handler(BaseHTTPRequestHandler):
    stub: StubServer

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass

    def send(self, status: int, body: bytes, content_type: str = TAXII, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        stub = self.stub
        stub.requests.append(self.path)
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if not self.headers.get("Accept", "").startswith("application/taxii+json"):
            return self.send(406, b'{"title": "Not Acceptable"}')
        if path == "/taxii2/":
            return self.send(200, stub.recorded("discovery.json"))
        if path == "/api1/":
            return self.send(200, stub.recorded("api_root.json"))
        if path == "/api1/collections/":
            return self.send(200, stub.recorded("collections.json"))
        collections = json.loads(stub.recorded("collections.json"))["collections"]
        for collection in collections:
            prefix = f"/api1/collections/{collection['id']}/"
            if path == prefix:
                return self.send(200, json.dumps(collection).encode())
            if path == prefix + "objects/":
                return self.objects(collection["id"], query)
        return self.send(404, b'{"title": "Not Found"}')

    def objects(self, collection: str, query: dict[str, list[str]]) -> None:
        stub = self.stub
        time.sleep(stub.delay)
        if collection == FAILING:
            return self.send(500, b"<h1>500 Internal Server Error</h1>", "text/html")
        if collection == HTML:
            return self.send(200, (RECORDED / "login.html").read_bytes(), "text/html")
        if collection == PRIVATE and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.send(401, b'{"title": "Unauthorized"}', WWW_Authenticate="Bearer")
        records = stub.records.get(collection, [])
        if "added_after" in query:
            after = datetime.fromisoformat(query["added_after"][0])
            records = [record for record in records if record[0] > after]
        offset = int(query["next"][0].removeprefix("page-")) if "next" in query else 0
        limit = min(int(query.get("limit", [SERVER_PAGE])[0]), SERVER_PAGE)
        page = records[offset : offset + limit]
        more = offset + limit < len(records)
        envelope: dict[str, Any] = {"more": more, "objects": [obj for _, obj in page]}
        if more and not stub.omit_next:
            envelope["next"] = f"page-{offset + limit}"
        if not page:
            return self.send(200, json.dumps(envelope).encode())
        return self.send(
            200,
            json.dumps(envelope).encode(),
            X_TAXII_Date_Added_First=stamp(page[0][0]),
            X_TAXII_Date_Added_Last=stamp(page[-1][0]),
        )


class StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the time-out test) is expected; anything else is shown."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests reads proxy settings from the environment; traffic here is loopback only."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def server(shared_data: Path) -> Iterator[StubServer]:
    stub = StubServer()
    handler = type("StubHandler", (Handler,), {"stub": stub})
    httpd = StubHTTPServer(("127.0.0.1", 0), handler)
    stub.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    apt1 = json.loads((shared_data / "stix" / "apt1.json").read_text())["objects"]
    stub.add(GOOD, apt1, START)
    private = json.loads((shared_data / "stix" / "indicator-for-c2-ip-address.json").read_text())
    stub.add(PRIVATE, private["objects"], START)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        httpd.shutdown()
        httpd.server_close()


def collection_url(stub: StubServer, collection: str) -> str:
    return f"{stub.base}/api1/collections/{collection}/"


def test_discovery_lists_the_collections(server: StubServer) -> None:
    found = list_collections(f"{server.base}/taxii2/", timeout=5)
    assert [collection.title for collection in found] == [
        "High Value Indicator Collection",
        "Indicators (server failing)",
        "Indicators (behind a web login page)",
        "Partner indicators (token required)",
    ]
    assert found[0].url == collection_url(server, GOOD)
    assert found[0].id == GOOD
    assert found[0].can_read is True
    assert found[0].description == "This data collection is for collecting high value IOCs"


def test_poll_follows_pages_and_returns_the_bookmark(server: StubServer) -> None:
    poll = poll_collection(collection_url(server, GOOD), added_after=None, timeout=5)
    assert len(poll.objects) == 76
    assert poll.pages == 4  # the server gives at most 25 objects a page
    assert [request for request in server.requests if "next=" in request] != []
    assert poll.bookmark == START + timedelta(seconds=75)
    items = list(poll.items())
    found = [item for item in items if isinstance(item, IntelEvent)]
    assert len(found) == 10
    assert {event.value for event in found if event.indicator_type is IndicatorType.DOMAIN} == {
        "hugesoft.org",
        "arrowservice.net",
        "msnhome.org",
    }
    reported = [item for item in items if isinstance(item, RowProblem)]
    assert len(reported) == 4
    assert reported[0].file == collection_url(server, GOOD)
    assert "unsupported: x509-certificate:issuer" in reported[0].reason


def test_a_second_poll_with_the_bookmark_returns_only_newer_objects(
    server: StubServer, shared_data: Path
) -> None:
    url = collection_url(server, GOOD)
    first = poll_collection(url, added_after=None, timeout=5)
    newer = json.loads((shared_data / "stix" / "indicator-for-malicious-url.json").read_text())
    server.add(GOOD, newer["objects"], START + timedelta(days=1))
    second = poll_collection(url, added_after=first.bookmark, timeout=5, page_size=2)
    assert [obj["id"] for obj in second.objects] == [obj["id"] for obj in newer["objects"]]
    assert second.pages == 2
    assert second.bookmark == START + timedelta(days=1, seconds=2)
    (event,) = [item for item in second.items() if isinstance(item, IntelEvent)]
    assert (event.indicator_type, event.value) == (IndicatorType.URL, "http://x4z9arb.cn/4712/")
    assert event.malware_name == "x4z9arb backdoor"
    third = poll_collection(url, added_after=second.bookmark, timeout=5)
    assert third.objects == []
    assert third.bookmark == second.bookmark


def test_more_without_next_continues_from_the_date_added_header(server: StubServer) -> None:
    server.omit_next = True
    poll = poll_collection(collection_url(server, GOOD), added_after=None, timeout=5)
    assert len(poll.objects) == 76
    assert poll.pages == 4
    assert poll.bookmark == START + timedelta(seconds=75)


def test_token_authentication(server: StubServer) -> None:
    url = collection_url(server, PRIVATE)
    with pytest.raises(FeedFetchError) as caught:
        poll_collection(url, added_after=None, timeout=5)
    assert caught.value.status == 401
    assert "HTTP 401" in str(caught.value)
    poll = poll_collection(url, added_after=None, token=TOKEN, timeout=5)
    (event,) = [item for item in poll.items() if isinstance(item, IntelEvent)]
    assert event.value == "10.0.0.0"


def test_server_error_is_a_feed_fetch_error(server: StubServer) -> None:
    url = collection_url(server, FAILING)
    with pytest.raises(FeedFetchError) as caught:
        poll_collection(url, added_after=None, timeout=5)
    assert caught.value.status == 500
    assert caught.value.url == url
    assert str(caught.value) == f"fetching {url} failed: HTTP 500 Internal Server Error"


def test_an_html_answer_is_a_feed_fetch_error(server: StubServer) -> None:
    url = collection_url(server, HTML)
    with pytest.raises(FeedFetchError) as caught:
        poll_collection(url, added_after=None, timeout=5)
    assert caught.value.reason == "not a TAXII 2.1 answer (Content-Type 'text/html')"
    assert caught.value.status == 200


def test_an_unknown_collection_is_a_feed_fetch_error(server: StubServer) -> None:
    url = collection_url(server, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(FeedFetchError) as caught:
        poll_collection(url, added_after=None, timeout=5)
    assert caught.value.status == 404


def test_a_slow_server_times_out(server: StubServer) -> None:
    server.delay = 1.5
    with pytest.raises(FeedFetchError, match=r"no answer within 0.3 s"):
        poll_collection(collection_url(server, GOOD), added_after=None, timeout=0.3)


def test_nobody_listening(server: StubServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api1/collections/{GOOD}/"
    with pytest.raises(FeedFetchError, match="cannot connect"):
        poll_collection(url, added_after=None, timeout=2)


def test_credentials_stay_out_of_the_error(server: StubServer) -> None:
    url = collection_url(server, FAILING).replace("http://", "http://analyst:hunter2@")
    with pytest.raises(FeedFetchError) as caught:
        poll_collection(url, added_after=None, timeout=5)
    assert "hunter2" not in str(caught.value)
