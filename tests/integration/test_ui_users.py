"""User administration pages: administrators only, every change audited, CSRF on every form."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from ui_pages import (
    assert_refused_page,
    body_rows,
    downloads,
    organisation_id,
    statuses,
    stored_counts,
)

from garrison.auth.models import Membership, User
from garrison.core.audit import AuditEvent
from garrison.core.db import Database

from web_client import sign_in

pytestmark = pytest.mark.db
NEW_PASSWORD = "mat-khau-rat-dai-2024"


def _user_id(database: Database, username: str) -> int:
    with database.session() as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def _add_user(client: TestClient, csrf: str, database: Database, **changes: str) -> int:
    form = {
        "csrf_token": csrf,
        "username": "lan.nguyen",
        "display_name": "Nguyễn Thị Lan",
        "email": "lan@stc.sonlam.gov.vn",
        "password": NEW_PASSWORD,
        "organisation": str(organisation_id(database, "STC")),
        "role": "member_staff",
        **changes,
    }
    response = client.post("/users", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return int(re.fullmatch(r"/users/(\d+)\?done=created", response.headers["location"])[1])


def test_only_administrators_manage_users(client: TestClient, province: Database) -> None:
    syt = _user_id(province, "syt")
    paths = ["/users", "/users.csv", "/users.xlsx", f"/users/{syt}"]
    seen = statuses(client, paths)
    assert seen.pop("quantri") == dict.fromkeys(paths, 200)
    assert all(code == 403 for by_path in seen.values() for code in by_path.values()), seen
    csrf = sign_in(client, "phantich")
    assert_refused_page(client.get("/users"))
    assert 'href="/users"' not in client.get("/").text, "no link to a page one may not open"
    before = stored_counts(province)
    refused = client.post(
        f"/users/{syt}/deactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert stored_counts(province) == before
    sign_in(client, "quantri")
    assert 'href="/users"' in client.get("/").text


def test_list_filters_and_downloads(client: TestClient) -> None:
    sign_in(client, "quantri")
    page = client.get("/users")
    rows = body_rows(page.text)
    assert [row[0] for row in rows] == sorted(row[0] for row in rows) and len(rows) == 6
    assert "Quản trị hệ thống" in page.text and "Sở Y tế tỉnh Sơn Lâm: Quản lý" in page.text
    managers = body_rows(client.get("/users?role=member_manager").text)
    assert [row[0] for row in managers] == ["syt"]
    found = body_rows(client.get("/users?search=phan+tich").text)
    assert [row[0] for row in found] == ["phantich"], "display names match without marks"
    for header, *rows in downloads(client, "/users", "search=s&sort=username&descending=true"):
        assert header[:3] == ["Tên đăng nhập", "Họ và tên", "Thư điện tử"]
        assert [row[0] for row in rows] == ["syt", "stc"]
        assert rows[0][4] == "Sở Y tế tỉnh Sơn Lâm: Quản lý đơn vị thành viên"


def test_add_grant_revoke_deactivate_reactivate_and_reset(
    client: TestClient, province: Database
) -> None:
    csrf = sign_in(client, "quantri")
    user_id = _add_user(client, csrf, province)
    page = client.get(f"/users/{user_id}?done=created")
    assert "Đã tạo người dùng." in page.text and "Sở Tài chính tỉnh Sơn Lâm" in page.text

    syt = organisation_id(province, "SYT")
    granted = client.post(
        f"/users/{user_id}/memberships",
        data={"csrf_token": csrf, "organisation": str(syt), "role": "member_manager"},
        follow_redirects=False,
    )
    assert granted.headers["location"] == f"/users/{user_id}?done=granted"
    with province.session() as session:
        memberships = {
            m.organisation_id: (m.id, m.role)
            for m in session.scalars(select(Membership).where(Membership.user_id == user_id))
        }
    assert memberships[syt][1] == "member_manager" and len(memberships) == 2
    revoked = client.post(
        f"/users/{user_id}/memberships/{memberships[syt][0]}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.headers["location"] == f"/users/{user_id}?done=revoked"

    lan = TestClient(client.app, base_url="http://127.0.0.1")
    sign_in(lan, "lan.nguyen", NEW_PASSWORD)
    assert lan.get("/assets").status_code == 200
    deactivated = client.post(
        f"/users/{user_id}/deactivate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert deactivated.headers["location"] == f"/users/{user_id}?done=deactivated"
    assert lan.get("/assets", follow_redirects=False).status_code == 303, "signed out at once"
    assert (
        lan.post("/login", data={"username": "lan.nguyen", "password": NEW_PASSWORD}).status_code
        == 401
    )
    client.post(f"/users/{user_id}/reactivate", data={"csrf_token": csrf})
    reset = client.post(
        f"/users/{user_id}/password",
        data={"csrf_token": csrf, "password": "mot-mat-khau-moi-khac"},
        follow_redirects=False,
    )
    assert reset.headers["location"] == f"/users/{user_id}?done=password"
    sign_in(lan, "lan.nguyen", "mot-mat-khau-moi-khac")

    with province.session() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity.in_(["users", "memberships"]))
            .where(AuditEvent.actor == "user:quantri")
            .order_by(AuditEvent.id)
        ).all()
    actions = [(e.entity, e.action) for e in events]
    assert actions[:3] == [
        ("users", "create"),
        ("memberships", "create"),
        ("memberships", "create"),
    ]
    assert ("memberships", "delete") in actions
    changes = [e.after for e in events if e.entity == "users" and e.action == "update"]
    assert {"is_active": False} in changes and {"is_active": True} in changes
    assert {"password_hash": "<redacted: new value>", "must_change_password": True} in changes
    assert all(NEW_PASSWORD not in str(e.after) for e in events)


def test_refused_changes_are_explained_and_store_nothing(
    client: TestClient, province: Database
) -> None:
    csrf = sign_in(client, "quantri")
    before = stored_counts(province)
    weak = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "yeu",
            "display_name": "Mật khẩu yếu",
            "password": "ngan",
            "organisation": str(organisation_id(province, "STC")),
            "role": "member_staff",
        },
    )
    assert weak.status_code == 422
    assert "Mật khẩu quá yếu: cần ít nhất 10 ký tự" in weak.text
    assert 'value="Mật khẩu yếu"' in weak.text, "what was typed is kept"
    duplicate = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "syt",
            "display_name": "Trùng tên",
            "password": NEW_PASSWORD,
            "organisation": str(organisation_id(province, "STC")),
            "role": "member_staff",
        },
    )
    assert duplicate.status_code == 422 and "Thay đổi bị từ chối" in duplicate.text
    me = _user_id(province, "quantri")
    myself = client.post(f"/users/{me}/deactivate", data={"csrf_token": csrf})
    assert myself.status_code == 422 and "ask another administrator" in myself.text
    assert client.get("/users/999999").status_code == 404
    assert stored_counts(province) == before


def test_every_form_needs_the_csrf_token(client: TestClient, province: Database) -> None:
    csrf = sign_in(client, "quantri")
    target = _add_user(client, csrf, province)
    with province.session() as session:
        membership = session.scalar(select(Membership.id).where(Membership.user_id == target))
    forms = {
        "/users": {
            "username": "khong.token",
            "display_name": "x",
            "password": NEW_PASSWORD,
            "organisation": "1",
            "role": "member_staff",
        },
        f"/users/{target}/memberships": {"organisation": "1", "role": "member_staff"},
        f"/users/{target}/memberships/{membership}/revoke": {},
        f"/users/{target}/deactivate": {},
        f"/users/{target}/reactivate": {},
        f"/users/{target}/password": {"password": "mot-mat-khau-moi-khac"},
    }
    before = stored_counts(province)
    for path, form in forms.items():
        for token in ({}, {"csrf_token": "forged"}):
            response = client.post(path, data={**form, **token}, follow_redirects=False)
            assert response.status_code == 403, path
            assert "security token" in response.text
    assert stored_counts(province) == before
