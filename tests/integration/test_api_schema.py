"""Every operation in the OpenAPI schema, fed generated requests (a bounded number per
operation: valid ones aimed at existing rows, valid ones anywhere, invalid ones), never answers
with a server error. Run as an administrator's API token, deletions last, so that earlier
operations still find the rows and the rights they need."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import api_support as api
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.intel.formats import FeedDocument
from garrison.intel.importing import ImportRequest, import_document
from garrison.intel.sources import SourceSpec, add_source
from garrison.web.app import create_app

EXAMPLES = 10
# Rows of the demo province to aim at; not the coordinator (1) or the administrator (1).
EXISTING = {
    "organisation_id": 2,
    "network_id": 1,
    "domain_id": 1,
    "contact_id": 1,
    "asset_id": 2,
    "component_id": 1,
    "user_id": 2,
    "indicator_id": 1,
    "source_id": 1,
    "run_id": 1,
}
PATH_PARAMETER = re.compile(r"{(\w+)}")


def _exercise(operation: Any, headers: dict[str, str], statuses: Counter[int], **aim: Any) -> None:
    @given(case=operation.as_strategy(**aim))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=(not_a_server_error,))

    call()


def _deletions_last(operation: Any) -> tuple[bool, bool]:
    deletes = operation.method.upper() == "DELETE"
    return deletes, deletes and operation.path.endswith("/organisations/{organisation_id}")


def _with_intel(database: Database, tmp_path: Path) -> None:
    """A source, an import run and indicators (ids 1) for the intel operations to aim at."""
    with database.session() as session:
        add_source(session, SourceSpec("Danh sách thử", format="plain", default_tlp="green"))
    feed = tmp_path / "list.txt"
    feed.write_text("203.0.113.5\n198.51.100.0/24\nc2.example.net\n")
    run = import_document(database, ImportRequest("Danh sách thử", FeedDocument.from_path(feed)))
    assert run.status == "succeeded", run.error


def test_no_operation_answers_a_server_error(
    province: Database, web_settings: Settings, tmp_path: Path
) -> None:
    _with_intel(province, tmp_path)
    headers = {"Authorization": f"Bearer {api.token_for(province, 'quantri')}"}
    app = create_app(province, web_settings)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        operations = sorted((r.ok() for r in schema.get_all_operations()), key=_deletions_last)
        assert len(operations) >= 30
        for operation in operations:
            names = PATH_PARAMETER.findall(operation.path)
            aims: list[dict[str, Any]] = [
                {"generation_mode": GenerationMode.POSITIVE},
                {"generation_mode": GenerationMode.NEGATIVE},
            ]
            if names:
                existing = {name: EXISTING[name] for name in names}
                aims.insert(
                    0, {"generation_mode": GenerationMode.POSITIVE, "path_parameters": existing}
                )
            for aim in aims:
                try:
                    _exercise(operation, headers, statuses, **aim)
                except Exception as failure:  # collected: one run reports every operation
                    failures.append(f"{operation.label} {aim}: {failure}")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] + statuses[201] + statuses[204] > 50, statuses
    assert not any(status >= 500 for status in statuses), statuses
