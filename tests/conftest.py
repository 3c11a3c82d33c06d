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

from garrison.auth.demo_accounts import create_demo_accounts
from garrison.core.db import Database, create_database_engine, migrate
from garrison.orgs.demo import load_demo_province

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


def _fill_with_demo(url: str) -> None:
    database = Database(create_database_engine(url))
    with database.session() as session:
        load_demo_province(session)
        create_demo_accounts(session)
    database.dispose()


def _make_postgres_template(server_url: str, name: str, *, demo: bool) -> str:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_database_engine(url)
    migrate(engine)
    engine.dispose()
    if demo:
        _fill_with_demo(url)
    return name


def _make_sqlite_template(path: Path, *, demo: bool) -> Path:
    engine = create_database_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    if demo:
        _fill_with_demo(f"sqlite:///{path}")
    engine = create_database_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> str:
    """A migrated template database; each test clones it, which is far faster than migrating."""
    return _make_postgres_template(
        postgres_server_url, f"garrison_template_{os.getpid()}", demo=False
    )


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_server_url: str) -> str:
    return _make_postgres_template(postgres_server_url, f"garrison_demo_{os.getpid()}", demo=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_sqlite_template(tmp_path_factory.mktemp("sqlite") / "empty.sqlite3", demo=False)


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_sqlite_template(tmp_path_factory.mktemp("sqlite") / "demo.sqlite3", demo=True)


def _postgres_database(request: pytest.FixtureRequest, template_fixture: str) -> Iterator[str]:
    server_url = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue(template_fixture)
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


def _sqlite_database(
    request: pytest.FixtureRequest, tmp_path: Path, template_fixture: str
) -> Iterator[str]:
    template = request.getfixturevalue(template_fixture)
    path = tmp_path / "garrison.sqlite3"
    shutil.copyfile(template, path)
    yield f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database of each kind."""
    if request.param == "sqlite":
        yield from _sqlite_database(request, tmp_path, "sqlite_template")
    else:
        yield from _postgres_database(request, "postgres_template")


@pytest.fixture(params=["sqlite", "postgresql"])
def province_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind holding the demo province and its demo accounts."""
    if request.param == "sqlite":
        yield from _sqlite_database(request, tmp_path, "sqlite_demo_template")
    else:
        yield from _postgres_database(request, "postgres_demo_template")


def _open(url: str) -> Iterator[Database]:
    db = Database(create_database_engine(url))
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    yield from _open(database_url)


@pytest.fixture
def province(province_url: str) -> Iterator[Database]:
    """The demo province (tỉnh Sơn Lâm) with its demo accounts, on SQLite and PostgreSQL."""
    yield from _open(province_url)
