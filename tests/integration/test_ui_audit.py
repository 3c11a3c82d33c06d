"""The audit log page: coordinator staff only, newest first, filters, pages, diffs, downloads."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from ui_pages import assert_refused_page, body_rows, downloads, statuses

from garrison.core.audit import AuditEvent
from garrison.core.db import Database

from web_client import sign_in

pytestmark = pytest.mark.db
TIME, ACTOR, ACTION, ENTITY, CHANGES = range(5)


def _event_count(page: str) -> int:
    found = re.search(r">(\d+) sự kiện", page)
    assert found, "the page says how many events match"
    return int(found[1])


def _deactivate(client: TestClient, csrf: str, username: str) -> None:
    page = client.get(f"/users?search={username}")
    user_id = page.text.split('href="/users/', 1)[1].split('"', 1)[0]
    done = client.post(
        f"/users/{user_id}/deactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303


def test_only_coordinator_staff_read_the_audit_log(client: TestClient) -> None:
    paths = ["/audit", "/audit.csv", "/audit.xlsx"]
    seen = statuses(client, paths)
    for username in ("quantri", "phantich", "truc.ban"):
        assert seen.pop(username) == dict.fromkeys(paths, 200)
    assert all(code == 403 for by_path in seen.values() for code in by_path.values()), seen
    sign_in(client, "stc")
    assert_refused_page(client.get("/audit"))
    assert 'href="/audit"' not in client.get("/").text
    sign_in(client, "truc.ban")
    assert 'href="/audit"' in client.get("/").text


def test_newest_first_with_filters_pages_and_diffs(client: TestClient, province: Database) -> None:
    csrf = sign_in(client, "quantri")
    _deactivate(client, csrf, "stc")
    sign_in(client, "truc.ban")
    newest = body_rows(client.get("/audit").text)
    assert len(newest) == 50
    assert [row[TIME] for row in newest] == sorted((row[TIME] for row in newest), reverse=True)
    assert newest[0][ACTOR] == "user:quantri" and newest[0][ACTION] == "cập nhật"
    assert newest[0][ENTITY].startswith("users") and "stc" in newest[0][ENTITY]
    page = client.get("/audit?actor=QUANTRI&entity=users&action=update")
    assert body_rows(page.text)[0][CHANGES] == "is_active: true → false"
    assert "<del>true</del> → <ins>false</ins>" in page.text

    with province.session() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    assert _event_count(client.get("/audit").text) == total
    second = body_rows(client.get("/audit?page=2").text)
    assert len(second) == 50 and second[0][TIME] <= newest[-1][TIME]

    created = body_rows(client.get("/audit?entity=organisations&action=create").text)
    assert created and all(row[ACTION] == "tạo mới" for row in created)
    assert all(row[ENTITY].startswith("organisations") for row in created)
    assert "name: " in created[0][CHANGES] and "kind_code: " in created[0][CHANGES]

    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    same_day = client.get(f"/audit?actor=quantri&since={today}&until={today}")
    assert _event_count(same_day.text) == 1
    assert _event_count(client.get("/audit?since=2000-01-01&until=2000-01-02").text) == 0
    assert client.get("/audit?since=not-a-date").status_code == 422


def test_downloads_hold_every_matching_event(client: TestClient, province: Database) -> None:
    csrf = sign_in(client, "quantri")
    _deactivate(client, csrf, "nhamang")
    with province.session() as session:
        expected = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "assets")
        )
    for header, *rows in downloads(client, "/audit", "entity=assets&page=3"):
        assert header[0] == "Thời gian (Asia/Ho_Chi_Minh)" and header[1] == "Người thực hiện"
        assert len(rows) == expected and {row[3] for row in rows} == {"assets"}
    for _header, *rows in downloads(client, "/audit", "actor=user:quantri"):
        assert rows == [
            [rows[0][0], "user:quantri", "cập nhật", "users", rows[0][4], "nhamang", rows[0][6]]
        ]
        assert rows[0][6] == "is_active: true → false"
