"""What an export carries: TLP ceiling, tenancy, warninglists, expiry, sources."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from garrison.auth.principal import Grant, Principal
from garrison.auth.roles import Role
from garrison.auth.tenancy import bind_principal
from garrison.cli.main import app
from garrison.core.db import Database
from garrison.intel.export_selection import ExportSelection, exported_indicators
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.types import IndicatorType, Tlp

pytestmark = pytest.mark.db
NOW = datetime.now(UTC)


def indicator(value: str, tlp: Tlp, source: int, **extra: object) -> Indicator:
    return Indicator(
        type="ipv4",
        value=value,
        tlp=tlp.value,
        first_seen=NOW,
        last_seen=NOW,
        confidence=extra.pop("confidence", 60),
        source_ids=[source],
        **extra,
    )


@pytest.fixture
def stored(database: Database) -> Database:
    with database.session() as session:
        feodo, botnet = Source(name="feodo", format="feodotracker"), Source(name="vn", format="csv")
        session.add_all([feodo, botnet])
        session.flush()
        indicators = [
            indicator("203.0.113.1", Tlp.CLEAR, feodo.id),
            indicator("203.0.113.2", Tlp.GREEN, feodo.id),
            indicator("203.0.113.3", Tlp.AMBER, botnet.id),
            indicator("203.0.113.4", Tlp.RED, botnet.id),
            indicator("203.0.113.5", Tlp.GREEN, feodo.id, warninglists=["public resolvers"]),
            indicator("203.0.113.6", Tlp.GREEN, feodo.id, expires_at=NOW - timedelta(days=1)),
            indicator("203.0.113.7", Tlp.GREEN, feodo.id, confidence=10),
        ]
        session.add_all(indicators)
        runs = {s.id: ImportRun(source_id=s.id, started_at=NOW) for s in (feodo, botnet)}
        session.add_all(runs.values())
        session.flush()
        session.add_all(
            Sighting(
                indicator_id=i.id,
                source_id=i.source_ids[0],
                observed_key="",
                import_run_id=runs[i.source_ids[0]].id,
            )
            for i in indicators
        )
    return database


def values(
    database: Database, selection: ExportSelection, member_of: int | None = None
) -> list[str]:
    with database.session() as session:
        if member_of is not None:
            grant = Grant(Role.MEMBER_STAFF, member_of, frozenset({member_of}))
            bind_principal(session, Principal(0, "member", (grant,)))
        return [i.value for i in exported_indicators(session, selection)]


def test_tlp_ceiling_and_defaults(stored: Database) -> None:
    assert values(stored, ExportSelection()) == ["203.0.113.1", "203.0.113.2", "203.0.113.7"]
    assert values(stored, ExportSelection(max_tlp=Tlp.AMBER, min_confidence=50)) == [
        "203.0.113.1",
        "203.0.113.2",
        "203.0.113.3",
    ]
    everything = ExportSelection(max_tlp=Tlp.RED, include_expired=True, include_warninglisted=True)
    assert len(values(stored, everything)) == 7


def test_member_gets_clear_and_green_only_whatever_the_ceiling(stored: Database) -> None:
    selection = ExportSelection(max_tlp=Tlp.RED)
    assert values(stored, selection, member_of=1) == ["203.0.113.1", "203.0.113.2", "203.0.113.7"]


def test_source_and_type_filters(stored: Database) -> None:
    only_vn = ExportSelection(max_tlp=Tlp.RED, source_names=("vn",))
    assert values(stored, only_vn) == ["203.0.113.3", "203.0.113.4"]
    domains = ExportSelection(max_tlp=Tlp.RED, types=frozenset({IndicatorType.DOMAIN}))
    assert values(stored, domains) == []


def test_cli_export_for_an_organisation(
    stored: Database, database_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "syt.csv"
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            database_url,
            "--data-dir",
            str(tmp_path),
            "intel",
            "export",
            "-f",
            "csv",
            "-o",
            str(output),
            "--max-tlp",
            "red",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert [(r["value"], r["tlp"]) for r in rows][:2] == [
        ("203.0.113.1", "clear"),
        ("203.0.113.2", "green"),
    ]
    assert {r["sources"] for r in rows} >= {"feodo", "vn"}
