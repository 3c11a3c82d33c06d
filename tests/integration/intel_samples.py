"""Threat intelligence for the page and API tests, imported through the real pipeline: a GREEN
source whose name and raw rows carry markup, an AMBER one, and the RFC 5735 warninglist."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.intel.formats import FeedDocument
from garrison.intel.importing import ImportRequest, configured_warninglists, import_document
from garrison.intel.models import Indicator
from garrison.intel.sources import SourceSpec, add_source

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
GREEN_SOURCE = f"Danh sách xanh {SCRIPT}"
AMBER_SOURCE = "Nguồn hổ phách"
WARNINGLIST = "List of RFC 5735 CIDR blocks"
GREEN_LINES = [
    f"45.77.10.20 {SCRIPT}",
    "evil.example.vn",
    "103.97.124.0/22",
    "192.0.2.10",
]
AMBER_LINES = ["185.220.101.7", "hidden.example.vn"]


@dataclass(frozen=True)
class IntelSamples:
    green_source: int
    amber_source: int
    green_run: int
    ids: dict[str, int]
    """Indicator id by value."""


def intel_settings(tmp_path: Path, shared_data: Path) -> Settings:
    """Web settings whose data folder holds the RFC 5735 warninglist (192.0.2.0/24 is on it)."""
    data = tmp_path / "data"
    shutil.copytree(shared_data / "warninglists" / "rfc5735", data / "warninglists" / "rfc5735")
    return load_settings(data_dir=data, language="vi")


def _import(
    database: Database, settings: Settings, tmp_path: Path, source: str, lines: list[str]
) -> int:
    path = tmp_path / f"{len(lines)}-{source[:5]}.txt"
    path.write_text("".join(f"{line}\n" for line in lines))
    request = ImportRequest(source, FeedDocument.from_path(path), "plain")
    run = import_document(database, request, configured_warninglists(settings))
    assert run.status == "succeeded", run.error
    return run.id


def load_intel(database: Database, settings: Settings, tmp_path: Path) -> IntelSamples:
    with database.session() as session:
        green = add_source(session, SourceSpec(GREEN_SOURCE, "plain", default_tlp="green")).id
        amber = add_source(session, SourceSpec(AMBER_SOURCE, "plain", default_tlp="amber")).id
    green_run = _import(database, settings, tmp_path, GREEN_SOURCE, GREEN_LINES)
    _import(database, settings, tmp_path, AMBER_SOURCE, AMBER_LINES)
    with database.session() as session:
        ids = {
            value: row_id
            for row_id, value in session.execute(select(Indicator.id, Indicator.value))
        }
    return IntelSamples(green, amber, green_run, ids)
