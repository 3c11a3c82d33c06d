"""Importing a feed document into a source: one ImportRun, atomic, idempotent.

The run row is committed on its own first, so that a failed import is still on record with
its error; the indicators and sightings are written in a second transaction that either
commits whole or leaves the store exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.audit import current_actor
from garrison.core.bulk import bulk_writing
from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.errors import GarrisonError, InputError, NotFoundError, RowProblem
from garrison.core.settings import Settings
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, FeedFormat, detect_format, format_named
from garrison.intel.models import ImportRun, Source
from garrison.intel.normalise import InvalidIndicator, normalise
from garrison.intel.store import (
    IndicatorStore,
    Observation,
    WarninglistChecker,
    default_expiry,
)
from garrison.intel.types import Tlp
from garrison.intel.warninglists import WarninglistIndex

BATCH_EVENTS = 20_000
KEPT_PROBLEMS = 1000
"""Problems stored on the run for the error report; `invalid_count` counts them all."""
RunProgress = Callable[[int], None]


@dataclass(frozen=True)
class ImportRequest:
    source_name: str
    document: FeedDocument
    format_name: str | None = None
    """None: detect the format from the document, then fall back to the source's format."""
    feed_format: FeedFormat | None = None
    """For callers that already hold the format (a TAXII poll, a test's own format)."""


def configured_warninglists(settings: Settings) -> WarninglistIndex:
    """The warninglists of <data_dir>/warninglists (when it exists) and of every configured
    folder; a broken list is left out and named in the index's `problems`."""
    folders = (
        [settings.data_dir / "warninglists"]
        if (settings.data_dir / "warninglists").is_dir()
        else []
    )
    return WarninglistIndex.load([*folders, *settings.warninglist_dirs])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_named(session: Session, name: str) -> Source:
    source = session.scalars(select(Source).where(Source.name == name)).one_or_none()
    if source is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none yet"
        raise NotFoundError(f"no intel source named {name!r} (known sources: {known})")
    return source


def _choose_format(request: ImportRequest, source: Source) -> FeedFormat:
    if request.feed_format is not None:
        return request.feed_format
    if request.format_name and request.format_name != "auto":
        return format_named(request.format_name)
    try:
        return detect_format(request.document)
    except GarrisonError:
        if source.format and source.format != "auto":
            return format_named(source.format)
        raise


@dataclass(frozen=True)
class SourceDefaults:
    """The parts of a Source that fill what an event leaves out."""

    tlp: str
    confidence: int
    expiry_days: int | None
    classification_type: str | None

    @classmethod
    def of(cls, source: Source) -> SourceDefaults:
        return cls(
            source.default_tlp,
            source.default_confidence,
            source.default_expiry_days,
            source.default_classification_type,
        )

    @cached_property
    def label(self) -> Tlp:
        """The TLP as a label, made once rather than for each of a million events."""
        return Tlp(self.tlp)


def observation_of(event: IntelEvent, defaults: SourceDefaults, run_day: datetime) -> Observation:
    """Normalise one event; raises InvalidIndicator when its value is not a valid indicator.

    A feed that gives no time is taken as seen on the run's day: importing the same list
    twice in a day changes nothing, and a list pulled daily moves last_seen forward."""
    key = normalise(event.indicator_type, event.value)
    observed = event.time_source or run_day
    last_seen = max(event.last_seen or observed, observed)
    details = event.harmonised()
    details.pop("raw", None)
    return Observation(
        key=key,
        observed_key=event.time_source.isoformat() if event.time_source else "",
        first_seen=observed,
        last_seen=last_seen,
        confidence=event.confidence if event.confidence is not None else defaults.confidence,
        tlp=event.tlp or defaults.label,
        tags=event.tags,
        malware=event.malware_name.lower() if event.malware_name else None,
        classification_type=event.classification_type or defaults.classification_type,
        expires_at=event.expires_at or default_expiry(last_seen, defaults.expiry_days),
        sighting={
            "observed_at": event.time_source,
            "last_seen": last_seen,
            "count": event.count or 1,
            "malware_name": event.malware_name,
            "classification_taxonomy": event.classification_taxonomy,
            "classification_type": event.classification_type,
            "classification_identifier": event.classification_identifier,
            "source_asn": event.source_asn,
            "source_as_name": event.source_as_name,
            "region": event.source_geolocation_region,
            "destination_ip": event.destination_ip,
            "destination_port": event.destination_port,
            "destination_fqdn": event.destination_fqdn,
            "line": event.line,
            "details": _json_ready(details),
            "raw": event.raw,
        },
    )


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """Times as ISO text, in place: the dict is the event's own copy."""
    for name, value in values.items():
        if isinstance(value, datetime):
            values[name] = value.isoformat()
    return values


class _RunTally:
    """Rows read and problems met while parsing, for the run's counters and error report."""

    def __init__(self) -> None:
        self.rows = 0
        self.invalid = 0
        self.problems: list[dict[str, Any]] = []

    def problem(self, problem: RowProblem) -> None:
        self.invalid += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(
                {
                    "file": problem.file,
                    "sheet": problem.sheet,
                    "row": problem.row,
                    "column": problem.column,
                    "reason": problem.reason,
                }
            )


def _observations(
    document: FeedDocument,
    feed_format: FeedFormat,
    defaults: SourceDefaults,
    tally: _RunTally,
    run_day: datetime,
) -> Iterator[Observation]:
    for item in feed_format.parse(document):
        tally.rows += 1
        if isinstance(item, RowProblem):
            tally.problem(item)
            continue
        try:
            yield observation_of(item, defaults, run_day)
        except InvalidIndicator as exc:
            tally.problem(
                RowProblem(
                    document.name, str(exc), item.sheet, item.line, item.indicator_type.value
                )
            )


def _batches(items: Iterator[Observation], size: int) -> Iterator[list[Observation]]:
    batch: list[Observation] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def start_run(database: Database, request: ImportRequest) -> int:
    with database.session() as session:
        source = source_named(session, request.source_name)
        run = ImportRun(
            source=source,
            status="running",
            file_name=request.document.name,
            started_at=utc_now(),
            started_by=current_actor(),
            file_sha256=file_sha256(request.document.path),
        )
        session.add(run)
        session.flush()
        return run.id


def import_document(
    database: Database,
    request: ImportRequest,
    warninglists: WarninglistChecker | None = None,
    progress: RunProgress | None = None,
) -> ImportRun:
    """Import one document; the returned run says what happened, failed or not."""
    run_id = start_run(database, request)
    tally = _RunTally()
    try:
        with database.session() as session:
            source = source_named(session, request.source_name)
            feed_format = _choose_format(request, source)
            defaults = SourceDefaults.of(source)
            connection = session.connection()
            store = IndicatorStore(connection, source.id, run_id, warninglists)
            run_day = datetime.combine(utc_now().date(), time(), tzinfo=utc_now().tzinfo)
            events = _observations(request.document, feed_format, defaults, tally, run_day)
            with bulk_writing(connection):
                for batch in _batches(events, BATCH_EVENTS):
                    store.merge(batch)
                    if progress:
                        progress(tally.rows)
            if tally.rows == 0:
                raise InputError([RowProblem(request.document.name, "the document has no rows")])
            _finish(session, run_id, "succeeded", feed_format.name, tally, store)
    except GarrisonError as exc:
        _fail(database, run_id, exc, tally)
    return _load_run(database, run_id)


def _finish(
    session: Session,
    run_id: int,
    status: str,
    format_name: str,
    tally: _RunTally,
    store: IndicatorStore,
) -> None:
    counts = store.counts
    run = session.get_one(ImportRun, run_id)
    run.status = status
    run.format = format_name
    run.finished_at = utc_now()
    run.rows_read = tally.rows
    run.invalid_count = tally.invalid
    run.problems = tally.problems
    run.new_count = len(counts.new - counts.excluded)
    run.updated_count = len(counts.updated - counts.new - counts.excluded)
    run.unchanged_count = counts.unchanged
    run.excluded_count = len(counts.excluded)


def _fail(database: Database, run_id: int, exc: GarrisonError, tally: _RunTally) -> None:
    if isinstance(exc, InputError):
        for problem in exc.problems:
            tally.problem(problem)
    with database.session() as session:
        run = session.get_one(ImportRun, run_id)
        run.status = "failed"
        run.finished_at = utc_now()
        run.error = str(exc)
        run.rows_read = tally.rows
        run.invalid_count = tally.invalid
        run.problems = tally.problems


def _load_run(database: Database, run_id: int) -> ImportRun:
    with database.session() as session:
        run = session.get_one(ImportRun, run_id)
        session.expunge(run)
        return run
