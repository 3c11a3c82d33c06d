"""The schema migrates and behaves alike on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from garrison.core.audit import AuditEvent, acting_as
from garrison.core.db import Database, create_database_engine, is_up_to_date, migrate
from garrison.core.settings import load_settings
from garrison.orgs.models import Organisation, OrganisationKind


def test_migrated_schema_is_at_head_and_has_kinds(database: Database) -> None:
    assert is_up_to_date(database.engine)
    with database.session() as session:
        kinds = set(session.scalars(select(OrganisationKind.code)))
    assert {"coordinator", "department", "district", "telecom", "enterprise", "other"} <= kinds


def test_orm_changes_leave_audit_events(database: Database) -> None:
    with acting_as("job:test"), database.session() as session:
        org = Organisation(name="Sở Y tế", short_name="SYT", kind_code="department")
        session.add(org)
    with acting_as("user:lan"), database.session() as session:
        stored = session.get(Organisation, org.id)
        assert stored is not None
        stored.notes = "Đầu mối trực 24/7"
    with database.session() as session:
        session.delete(session.get(Organisation, org.id))
    with database.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor) for e in events][:2] == [
        ("create", "job:test"),
        ("update", "user:lan"),
    ]
    assert events[0].after is not None and events[0].after["name"] == "Sở Y tế"
    assert {e.entity_id for e in events} == {str(org.id)}
    assert events[1].before == {"notes": None}
    assert events[1].after == {"notes": "Đầu mối trực 24/7"}
    assert events[2].action == "delete" and events[2].before is not None
    assert events[2].before["short_name"] == "SYT"
    assert events[2].at.tzinfo is not None


def test_failed_unit_of_work_writes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Organisation(name="X", kind_code="other"))
        session.flush()
        raise RuntimeError("boom")
    with database.session() as session:
        assert session.scalar(select(Organisation).where(Organisation.name == "X")) is None
        assert session.scalars(select(AuditEvent)).all() == []


def test_unknown_kind_is_refused_by_foreign_key(database: Database) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), database.session() as session:
        session.add(Organisation(name="Y", kind_code="ministry-of-nothing"))


def test_default_database_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    db = Database.open(settings)
    try:
        assert settings.effective_database_url.endswith("garrison.sqlite3")
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (tmp_path / "data" / "garrison.sqlite3").is_file()
    finally:
        db.dispose()


def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    migrate(engine)
    migrate(engine)
    assert is_up_to_date(engine)
    engine.dispose()


def test_migrations_match_the_models(database: Database) -> None:
    """A model changed without a migration would make this list non-empty."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from garrison.schema import metadata

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
