"""Web test set-up: an app over the demo province, and signing in through the real form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.web.app import create_app


@pytest.fixture
def web_settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    return load_settings(data_dir=tmp_path / "data", language="vi")


@pytest.fixture
def client(province: Database, web_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(province, web_settings), base_url="http://127.0.0.1") as c:
        yield c
