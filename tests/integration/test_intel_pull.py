"""Pulling sources from a real HTTP server on loopback into real databases."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.scheduler import Scheduler
from garrison.core.settings import Settings
from garrison.intel.fetching import FetchLimits
from garrison.intel.models import ImportRun, Indicator, Source
from garrison.intel.pulling import due_sources, pull_due_sources, pull_source
from garrison.intel.sources import SourceSpec, add_source

from feed_server import FeedServer, Reply, Seen

pytestmark = pytest.mark.db
FAST = FetchLimits(attempts=2, read_timeout=2.0, total_timeout=10.0)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def etagged(body: bytes, etag: str) -> object:
    def answer(seen: Seen) -> Reply:
        if seen.headers["If-None-Match"] == etag:
            return Reply(304, headers={"ETag": etag}, content_length=False)
        return Reply(200, body, {"Content-Type": "text/plain", "ETag": etag})

    return answer


def add(database: Database, name: str, url: str, fmt: str = "feodotracker", **kw: object) -> None:
    with database.session() as session:
        add_source(session, SourceSpec(name, fmt, url, **kw))  # type: ignore[arg-type]


def indicator_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(Indicator.id))) or 0


def test_pull_then_not_modified(
    database: Database, server: FeedServer, settings: Settings, shared_data: Path
) -> None:
    body = (shared_data / "feeds/abusech_feodotracker/feodoips.txt").read_bytes()
    add(database, "feodo", server.route("/ipblocklist.csv", etagged(body, '"v1"')))
    first = pull_source(database, settings, "feodo", limits=FAST)
    assert first.status == "succeeded" and first.run is not None
    assert first.run.format == "feodotracker" and first.run.new_count > 0
    stored = indicator_count(database)
    second = pull_source(database, settings, "feodo", limits=FAST)
    assert second.status == "not_modified"
    assert server.hits("/ipblocklist.csv")[-1].headers["If-None-Match"] == '"v1"'
    assert indicator_count(database) == stored
    with database.session() as session:
        source = session.scalars(select(Source)).one()
        assert source.etag == '"v1"' and source.last_pulled_at is not None
        statuses = session.scalars(select(ImportRun.status).order_by(ImportRun.id)).all()
        assert statuses == ["succeeded", "not_modified"]


def test_failed_download_is_recorded_and_state_kept(
    database: Database, server: FeedServer, settings: Settings, shared_data: Path
) -> None:
    body = (shared_data / "feeds/abusech_feodotracker/feodoips.txt").read_bytes()
    url = server.route("/feed", etagged(body, '"v1"'))
    add(database, "feodo", url)
    pull_source(database, settings, "feodo", limits=FAST)
    server.route("/feed", Reply(500, b"oops"), Reply(500, b"oops"))
    failed = pull_source(database, settings, "feodo", limits=FAST)
    assert failed.status == "failed" and "500" in failed.message
    server.route(
        "/feed", Reply(200, b"<!doctype html><html>login</html>", {"Content-Type": "text/html"})
    )
    html = pull_source(database, settings, "feodo", limits=FAST)
    assert html.status == "failed" and "HTML" in html.message
    with database.session() as session:
        assert session.scalars(select(Source.etag)).one() == '"v1"'


def test_unparseable_content_is_retried_next_time(
    database: Database, server: FeedServer, settings: Settings
) -> None:
    url = server.route("/drop.txt", Reply(200, b'{"broken json', {"Content-Type": "text/plain"}))
    add(database, "drop", url, "stix2")
    outcome = pull_source(database, settings, "drop", limits=FAST)
    assert outcome.status == "failed"
    with database.session() as session:
        assert session.scalars(select(Source.content_sha256)).one() is None


def test_scheduler_pulls_only_due_sources(
    database: Database, server: FeedServer, settings: Settings, shared_data: Path
) -> None:
    body = (shared_data / "feeds/spamhaus_drop/drop.txt").read_bytes()
    add(
        database,
        "drop",
        server.route("/drop.txt", Reply(200, body)),
        "spamhaus-drop",
        pull_interval_minutes=60,
    )
    add(database, "manual", server.route("/x", Reply(200, body)), "spamhaus-drop")
    assert due_sources(database) == ["drop"]
    scheduler = Scheduler()
    outcomes: list[str] = []
    scheduler.add(
        "feeds", 60, lambda: outcomes.extend(o.status for o in pull_due_sources(database, settings))
    )
    assert scheduler.run_due(now=1000.0) == ["feeds"]
    assert outcomes == ["succeeded"]
    assert scheduler.run_due(now=1030.0) == []
    assert due_sources(database) == []
    assert due_sources(database, utc_now() + timedelta(minutes=61)) == ["drop"]
    assert server.hits("/x") == []


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, gzip.compress(b"1.2.3.4\n" * 5000)[:-40]), "truncated"),
        (Reply(200, b"", hang=5.0), "read timeout"),
    ],
    ids=["truncated-gzip", "hanging"],
)
def test_broken_downloads_keep_the_store(
    database: Database, server: FeedServer, settings: Settings, reply: Reply, reason: str
) -> None:
    add(database, "list", server.route("/list.txt.gz", reply), "plain")
    limits = FetchLimits(attempts=1, read_timeout=0.5, total_timeout=3.0)
    outcome = pull_source(database, settings, "list", limits=limits)
    assert outcome.status == "failed" and reason in outcome.message.lower()
    assert outcome.run is not None and outcome.run.error == outcome.message
    assert indicator_count(database) == 0
    assert not list((settings.feeds_dir).rglob("*.txt"))
