"""Settings from GARRISON_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from garrison.core.errors import ConfigurationError

CONFIG_FILE_ENV = "GARRISON_CONFIG"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("garrison", appauthor=False))


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir("garrison", appauthor=False)) / "garrison.toml"


class Settings(BaseSettings):
    """Where Garrison keeps its data and how it speaks; environment beats the TOML file."""

    model_config = SettingsConfigDict(env_prefix="GARRISON_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    max_import_bytes: int = 100 * 1024 * 1024
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0)  # one file sent to a web page
    warninglist_dirs: list[Path] = Field(default_factory=list)
    """MISP warninglist folders (each holding */list.json) besides <data_dir>/warninglists."""
    max_feed_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    # Outgoing mail and webhooks (the outbox); without smtp_host e-mails wait in the outbox.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: Path | None = None
    """CA certificates to trust for the mail server (a private CA); default: the system's."""
    mail_from: str = "garrison@localhost"
    mail_subject_prefix: str = "[TBSC]"
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    """How long one SMTP conversation step or one webhook call may take."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'garrison.sqlite3'}"

    @property
    def feeds_dir(self) -> Path:
        """Where pulled feed files are kept (the last copy of each source)."""
        return self.data_dir / "feeds"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_path = Path(os.environ.get(CONFIG_FILE_ENV) or default_config_file())
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path),
        )


def load_settings(**overrides: Any) -> Settings:
    """Read settings now; a bad value becomes a ConfigurationError naming the setting."""
    config_path = os.environ.get(CONFIG_FILE_ENV)
    if config_path and not Path(config_path).is_file():
        raise ConfigurationError(f"{CONFIG_FILE_ENV} names {config_path}, which is not a file")
    try:
        return Settings(**overrides)
    except ValueError as exc:
        raise ConfigurationError(f"invalid settings: {exc}") from exc


@lru_cache(maxsize=1)
def current_settings() -> Settings:
    return load_settings()
