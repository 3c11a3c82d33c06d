"""Shared fixtures: every database test runs on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from garrison.core.db import Database, create_database_engine, migrate

from postgres_cluster import ThrowAwayCluster

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"sample data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    existing = os.environ.get("GARRISON_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    cluster = ThrowAwayCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> str:
    """A migrated template database; each test clones it, which is far faster than migrating."""
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    name = f"garrison_template_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_database_engine(
        make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    )
    migrate(engine)
    engine.dispose()
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = create_database_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    server_url = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("postgres_template")
    name = f"garrison_test_{os.getpid()}_{next(_counter)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sqlite_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "garrison.sqlite3"
    shutil.copyfile(template, path)
    yield f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield from _sqlite_database(request, tmp_path)
    else:
        yield from _postgres_database(request)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(create_database_engine(database_url))
    try:
        yield db
    finally:
        db.dispose()
