"""Pulling a source's feed: download (or TAXII poll), import, remember where it left off.

The source's fetch state (ETag, Last-Modified, content hash, TAXII bookmark) moves forward
only when the import succeeded, so a feed that failed to parse is fetched and tried again
next time instead of being skipped as "not modified".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.errors import GarrisonError
from garrison.core.settings import Settings
from garrison.intel.fetching import FeedFetchError, FetchLimits, FetchState, fetch_feed
from garrison.intel.formats import FeedDocument
from garrison.intel.importing import (
    ImportRequest,
    configured_warninglists,
    import_document,
    source_named,
)
from garrison.intel.models import ImportRun, Source
from garrison.intel.sources import TAXII_FORMAT
from garrison.intel.store import WarninglistChecker
from garrison.intel.taxii import poll_collection


@dataclass(frozen=True)
class PullOutcome:
    source: str
    status: str
    """succeeded, failed, not_modified, unchanged (same content as the last import)."""
    run: ImportRun | None
    message: str = ""


def _record(
    database: Database, source_id: int, status: str, file_name: str | None, error: str | None = None
) -> ImportRun:
    """A run that imported nothing (not modified, unchanged, or a failed download)."""
    now = utc_now()
    with database.session() as session:
        run = ImportRun(
            source_id=source_id,
            status=status,
            file_name=file_name,
            started_at=now,
            finished_at=now,
            error=error,
            problems=[],
        )
        session.add(run)
        session.flush()
        session.expunge(run)
        return run


def _remember(database: Database, source_id: int, **state: object) -> None:
    with database.session() as session:
        source = session.get_one(Source, source_id)
        for name, value in state.items():
            setattr(source, name, value)
        source.last_pulled_at = utc_now()


def _auth_headers(source: Source) -> dict[str, str]:
    return (
        {source.auth_header: source.auth_secret}
        if source.auth_header and source.auth_secret
        else {}
    )


def _pull_taxii(
    database: Database, source: Source, folder: Path, warninglists: WarninglistChecker | None
) -> PullOutcome:
    after = datetime.fromisoformat(source.bookmark) if source.bookmark else None
    token = source.auth_secret if source.auth_header == "Authorization" else None
    assert source.url is not None
    poll = poll_collection(source.url, added_after=after, token=token)
    if not poll.objects:
        run = _record(database, source.id, "not_modified", None)
        _remember(database, source.id)
        return PullOutcome(source.name, "not_modified", run, "no new objects")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"taxii-{stamp}.json"
    bundle = {"type": "bundle", "id": f"bundle--taxii-{stamp}", "objects": poll.objects}
    path.write_text(json.dumps(bundle), encoding="utf-8")
    run = import_document(
        database, ImportRequest(source.name, FeedDocument(path, path.name), "stix2"), warninglists
    )
    if run.status == "succeeded":
        bookmark = poll.bookmark.isoformat() if poll.bookmark else source.bookmark
        _remember(database, source.id, bookmark=bookmark)
    return PullOutcome(source.name, run.status, run, run.error or "")


def pull_source(
    database: Database,
    settings: Settings,
    name: str,
    warninglists: WarninglistChecker | None = None,
    client: httpx.Client | None = None,
    limits: FetchLimits | None = None,
) -> PullOutcome:
    """Fetch one source's URL and import what changed; failures are recorded as runs."""
    with database.session() as session:
        source = source_named(session, name)
        session.expunge(source)
    if not source.url:
        raise GarrisonError(f"source {name!r} has no URL to pull; import files into it instead")
    folder = settings.feeds_dir / str(source.id)
    try:
        if source.format == TAXII_FORMAT:
            return _pull_taxii(database, source, folder, warninglists)
        previous = FetchState(source.etag, source.last_modified, source.content_sha256)
        fetched = fetch_feed(
            source.url,
            destination_dir=folder,
            previous=previous,
            limits=limits or FetchLimits(max_download_bytes=settings.max_feed_bytes),
            headers=_auth_headers(source),
            client=client,
        )
    except FeedFetchError as exc:
        run = _record(database, source.id, "failed", None, str(exc))
        _remember(database, source.id)
        return PullOutcome(source.name, "failed", run, str(exc))
    document = fetched.document
    if fetched.not_modified or document is None:
        run = _record(database, source.id, "not_modified", None)
        _remember(database, source.id)
        return PullOutcome(source.name, "not_modified", run, "the server says not modified")
    if not fetched.changed and source.content_sha256 == fetched.sha256:
        run = _record(database, source.id, "unchanged", document.name)
        _remember(database, source.id, etag=fetched.etag, last_modified=fetched.last_modified)
        return PullOutcome(source.name, "unchanged", run, "same content as the last import")
    request = ImportRequest(source.name, document, source.format)
    run = import_document(database, request, warninglists)
    if run.status == "succeeded":
        _remember(
            database,
            source.id,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            content_sha256=fetched.sha256,
        )
    else:
        _remember(database, source.id)
    return PullOutcome(source.name, run.status, run, run.error or "")


def due_sources(database: Database, now: datetime | None = None) -> list[str]:
    """Enabled sources with a schedule whose interval has passed since their last pull."""
    moment = now or utc_now()
    with database.session() as session:
        sources = session.scalars(
            select(Source)
            .where(
                Source.enabled.is_(True),
                Source.url.is_not(None),
                Source.pull_interval_minutes.is_not(None),
            )
            .order_by(Source.name)
        )
        return [
            source.name
            for source in sources
            if source.last_pulled_at is None
            or source.last_pulled_at + timedelta(minutes=source.pull_interval_minutes or 0)
            <= moment
        ]


def pull_due_sources(database: Database, settings: Settings) -> Iterator[PullOutcome]:
    """Pull every due source once, one after another (a scheduler tick)."""
    names = due_sources(database)
    if not names:
        return
    warninglists = configured_warninglists(settings)
    for name in names:
        yield pull_source(database, settings, name, warninglists)
