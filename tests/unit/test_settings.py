"""Settings come from GARRISON_* variables and an optional TOML file; the environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.core.errors import ConfigurationError
from garrison.core.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "GARRISON_DATA_DIR",
        "GARRISON_DATABASE_URL",
        "GARRISON_TIMEZONE",
        "GARRISON_LANGUAGE",
        "GARRISON_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def test_defaults() -> None:
    settings = load_settings()
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.language == "vi"
    assert settings.effective_database_url == (
        f"sqlite:///{settings.data_dir / 'garrison.sqlite3'}"
    )
    assert settings.data_dir.name == "garrison"


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GARRISON_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("GARRISON_LANGUAGE", "en")
    monkeypatch.setenv("GARRISON_TIMEZONE", "UTC")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "d"
    assert settings.language == "en" and settings.zone.key == "UTC"


def test_toml_file_and_environment_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "garrison.toml"
    config.write_text(
        'language = "en"\ndatabase_url = "postgresql://g@127.0.0.1/g"\ntimezone = "Asia/Bangkok"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("GARRISON_CONFIG", str(config))
    monkeypatch.setenv("GARRISON_TIMEZONE", "Asia/Ho_Chi_Minh")
    settings = load_settings()
    assert settings.language == "en"
    assert settings.effective_database_url == "postgresql://g@127.0.0.1/g"
    assert settings.timezone == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GARRISON_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("GARRISON_LANGUAGE", "fr", "language"),
        ("GARRISON_CONFIG", "/nonexistent/garrison.toml", "not a file"),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_unsupported_database_url_is_refused(tmp_path: Path) -> None:
    from garrison.core.db import create_database_engine

    with pytest.raises(ConfigurationError, match="unsupported database URL"):
        create_database_engine("mysql://root@localhost/x")
