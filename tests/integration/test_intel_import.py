"""The intel import pipeline on real SQLite and PostgreSQL: counts, idempotence, atomicity."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from garrison.core.db import Database
from garrison.core.errors import InputError, NotFoundError
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem
from garrison.intel.importing import ImportRequest, import_document
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.sources import SourceSpec, add_source
from garrison.intel.types import IndicatorType, Tlp
from garrison.intel.warninglists import WarninglistIndex

pytestmark = pytest.mark.db


class TabFormat:
    """A test format: `type<TAB>value<TAB>malware<TAB>iso time` per line; 'BROKEN' fails all."""

    name = "test-tab"
    title = "test"

    def sniff(self, document: FeedDocument, head: bytes) -> float:
        return 0.0

    def parse(self, document: FeedDocument) -> Iterator[ParsedItem]:
        for number, line in enumerate(document.path.read_text().splitlines(), 1):
            if line == "BROKEN":
                raise InputError([document.problem("the document ends in the middle", number)])
            fields = line.split("\t")
            if len(fields) != 4:
                yield document.problem("expected 4 tab-separated fields", number)
                continue
            kind, value, malware, seen = fields
            yield IntelEvent(
                IndicatorType(kind),
                value,
                "test",
                line=number,
                time_source=datetime.fromisoformat(seen) if seen else None,
                malware_name=malware or None,
                raw=line,
            )


@dataclass(frozen=True)
class Hit:
    name: str


class ListedDocumentationRange:
    """Stands in for a warninglist: 192.0.2.0/24 is listed."""

    def hits(self, indicator_type: IndicatorType, value: str) -> Sequence[Hit]:
        return [Hit("documentation")] if value.startswith("192.0.2.") else []

    def check_addresses(self, values: Sequence[str]) -> list[Sequence[Hit]]:
        return [self.hits(IndicatorType.IPV4, value) for value in values]


def write(tmp_path: Path, name: str, lines: list[str]) -> FeedDocument:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines))
    return FeedDocument.from_path(path)


def run_import(database: Database, document: FeedDocument, source: str = "botnet") -> ImportRun:
    request = ImportRequest(source, document, feed_format=TabFormat())
    return import_document(database, request, ListedDocumentationRange())


@pytest.fixture
def sources(database: Database) -> Database:
    with database.session() as session:
        add_source(session, SourceSpec("botnet", default_tlp="amber", default_expiry_days=30))
        add_source(session, SourceSpec("public", default_tlp="clear", default_confidence=80))
    return database


LINES = [
    "ipv4\t203.0.113.5\tMirai\t2026-10-01T03:00:00+00:00",
    "ipv4\t203.0.113.5\tmirai\t2026-10-01T03:00:00+00:00",
    "ipv4\t198.51.100.7\tSality\t2026-10-02T03:00:00+00:00",
    "cidr4\t198.51.100.77/25\t\t",
    "domain\tEvil[.]Example.VN\t\t2026-10-03T00:00:00+00:00",
    "ipv4\t192.0.2.10\t\t2026-10-03T00:00:00+00:00",
    "ipv4\t999.1.1.1\t\t2026-10-03T00:00:00+00:00",
    "only three\tfields\there",
]


def counts(run: ImportRun) -> tuple[int, int, int, int, int]:
    return (
        run.new_count,
        run.updated_count,
        run.unchanged_count,
        run.invalid_count,
        run.excluded_count,
    )


def test_first_import_counts_each_indicator_once(sources: Database, tmp_path: Path) -> None:
    run = run_import(sources, write(tmp_path, "list.tsv", LINES))
    assert run.status == "succeeded", run.error
    assert run.rows_read == 8
    assert counts(run) == (4, 0, 0, 2, 1)
    reasons = [(p["row"], p["reason"]) for p in run.problems]
    assert reasons[0][0] == 7 and "'999.1.1.1' is not an IPv4 address" in reasons[0][1]
    assert reasons[1] == (8, "expected 4 tab-separated fields")
    with sources.session() as session:
        stored = {(i.type, i.value): i for i in session.scalars(select(Indicator))}
        assert set(stored) == {
            ("ipv4", "203.0.113.5"),
            ("ipv4", "198.51.100.7"),
            ("cidr4", "198.51.100.0/25"),
            ("domain", "evil.example.vn"),
            ("ipv4", "192.0.2.10"),
        }
        mirai = stored[("ipv4", "203.0.113.5")]
        assert mirai.malware == ["mirai"] and mirai.tlp == "amber"
        assert mirai.first_seen == datetime(2026, 10, 1, 3, tzinfo=UTC)
        assert mirai.expires_at == datetime(2026, 10, 31, 3, tzinfo=UTC)
        assert stored[("ipv4", "192.0.2.10")].warninglists == ["documentation"]
        network = stored[("cidr4", "198.51.100.0/25")]
        assert (network.first_key, network.last_key) == (
            "4" + f"{0xC6336400:032x}",
            "4" + f"{0xC633647F:032x}",
        )
        sighting = session.scalars(select(Sighting).where(Sighting.indicator_id == mirai.id)).one()
        assert sighting.count == 2 and sighting.line == 1
        assert sighting.raw == LINES[0]
        assert sighting.details["source.ip"] == "203.0.113.5"


def test_reimport_changes_nothing(sources: Database, tmp_path: Path) -> None:
    document = write(tmp_path, "list.tsv", LINES)
    run_import(sources, document)
    with sources.session() as session:
        before = session.execute(select(Indicator.id, Indicator.updated_at)).all()
        sightings = session.scalar(select(func.count(Sighting.id)))
    again = run_import(sources, document)
    assert counts(again) == (0, 0, 4, 2, 1)
    with sources.session() as session:
        assert session.execute(select(Indicator.id, Indicator.updated_at)).all() == before
        assert session.scalar(select(func.count(Sighting.id))) == sightings


def test_later_sighting_and_second_source_update(sources: Database, tmp_path: Path) -> None:
    run_import(sources, write(tmp_path, "a.tsv", LINES[:1]))
    later = "ipv4\t203.0.113.5\tgafgyt\t2026-11-01T03:00:00+00:00"
    run = run_import(sources, write(tmp_path, "b.tsv", [later]))
    assert counts(run) == (0, 1, 0, 0, 0)
    public = run_import(sources, write(tmp_path, "c.tsv", [later]), source="public")
    assert counts(public) == (0, 1, 0, 0, 0)
    with sources.session() as session:
        indicator = session.scalars(select(Indicator)).one()
        assert indicator.last_seen == datetime(2026, 11, 1, 3, tzinfo=UTC)
        assert indicator.first_seen == datetime(2026, 10, 1, 3, tzinfo=UTC)
        assert indicator.malware == ["gafgyt", "mirai"]
        assert indicator.tlp == Tlp.CLEAR.value  # as shareable as its most open source
        assert indicator.confidence == 80
        assert len(indicator.source_ids) == 2
        assert session.scalar(select(func.count(Sighting.id))) == 3


def test_failed_import_changes_nothing_and_is_on_record(
    sources: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import(sources, write(tmp_path, "a.tsv", LINES[:3]))
    with sources.session() as session:
        before = session.execute(select(Indicator.id, Indicator.value, Indicator.last_seen)).all()
    monkeypatch.setattr("garrison.intel.importing.BATCH_EVENTS", 1000)
    lines = ["ipv4\t203.0.113.99\t\t2026-12-01T00:00:00+00:00"] * 3000 + ["BROKEN"]
    run = run_import(sources, write(tmp_path, "broken.tsv", lines))
    assert run.status == "failed"
    assert "the document ends in the middle" in (run.error or "")
    assert run.problems[-1]["row"] == 3001
    with sources.session() as session:
        after = session.execute(select(Indicator.id, Indicator.value, Indicator.last_seen)).all()
        assert after == before
        assert session.get_one(ImportRun, run.id).finished_at is not None


def test_empty_document_fails(sources: Database, tmp_path: Path) -> None:
    run = run_import(sources, write(tmp_path, "empty.tsv", []))
    assert run.status == "failed" and "no rows" in (run.error or "")


def test_batches_larger_than_one_flush(
    sources: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("garrison.intel.importing.BATCH_EVENTS", 1000)
    lines = [f"ipv4\t10.{i // 65536}.{i // 256 % 256}.{i % 256}\t\t" for i in range(4500)]
    lines += lines[:100]  # repeated in a later batch: still one indicator each
    run = run_import(sources, write(tmp_path, "big.tsv", lines))
    assert counts(run) == (4500, 0, 0, 0, 0)
    with sources.session() as session:
        assert session.scalar(select(func.count(Indicator.id))) == 4500
        assert session.scalar(select(func.count(Sighting.id))) == 4500
        assert session.scalar(select(func.max(Sighting.count))) == 2


def test_unknown_source_is_named(sources: Database, tmp_path: Path) -> None:
    request = ImportRequest("nope", write(tmp_path, "a.tsv", LINES[:1]), feed_format=TabFormat())
    with pytest.raises(NotFoundError, match=r"no intel source named 'nope'.*botnet, public"):
        import_document(sources, request)


def test_source_rows_are_kept(sources: Database) -> None:
    with sources.session() as session:
        assert [s.name for s in session.scalars(select(Source).order_by(Source.name))] == [
            "botnet",
            "public",
        ]


def test_real_feeds_and_warninglists(sources: Database, shared_data: Path, tmp_path: Path) -> None:
    """Shared samples through auto-detection, the real parsers and the MISP warninglists."""
    lists = WarninglistIndex.load([shared_data / "warninglists"])
    sinkhole = FeedDocument.from_path(shared_data / "feeds/shadowserver/event4_sinkhole.csv")
    run = import_document(sources, ImportRequest("botnet", sinkhole), lists)
    assert (run.status, run.format) == ("succeeded", "shadowserver")
    assert run.invalid_count == 1 and "148.81.111.11.12" in run.problems[0]["reason"]
    resolvers = write(
        tmp_path, "resolvers.txt", ["# resolvers", "8.8.8.8", "1.1.1.1", "45.76.10.20"]
    )
    run = import_document(sources, ImportRequest("public", resolvers, "plain"), lists)
    assert (run.new_count, run.excluded_count) == (1, 2)
    with sources.session() as session:
        google = session.scalars(select(Indicator).where(Indicator.value == "8.8.8.8")).one()
        assert "List of known IPv4 public DNS resolvers" in google.warninglists
