"""/api/v1/users: administrators manage accounts and memberships; nobody else may; no
password hash ever leaves the server."""

from __future__ import annotations

import api_support as api
from fastapi.testclient import TestClient
from sqlalchemy import select

from garrison.auth.accounts import authenticate, find_user
from garrison.core.audit import REDACTED_NEW_VALUE, AuditEvent
from garrison.core.db import Database

from web_client import sign_in

URL = "/api/v1/users"
PASSWORD = "Mật khẩu đủ dài 2024"


def _user_id(client: TestClient, username: str) -> int:
    return next(
        u["id"] for u in api.all_pages(client, URL, search=username) if u["username"] == username
    )


def test_account_lifecycle_with_memberships(client: TestClient, province: Database) -> None:
    health = api.organisation_id(province, "SYT")
    api.act_as(client, province, "quantri")
    created = client.post(
        URL,
        json={"username": "Lan.Nguyen", "password": PASSWORD, "email": "Lan@SYT.sonlam.gov.vn"},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "lan.nguyen" and user["email"] == "lan@syt.sonlam.gov.vn"
    assert user["memberships"] == [] and user["is_active"]
    assert "password_hash" not in created.text and "argon2" not in created.text
    assert PASSWORD not in created.text
    url = f"{URL}/{user['id']}"
    granted = client.put(f"{url}/memberships/{health}", json={"role": "member_staff"})
    assert granted.json() == {"organisation_id": health, "role": "member_staff"}
    raised = client.put(f"{url}/memberships/{health}", json={"role": "member_manager"})
    assert raised.json()["role"] == "member_manager"
    assert client.get(f"{url}/memberships").json() == [raised.json()]
    assert client.get(url).json()["memberships"] == [raised.json()]
    api.act_as(client, province, "lan.nguyen", "read")
    assets = api.all_pages(client, "/api/v1/assets", organisation_id=health)
    assert assets
    api.act_as(client, province, "quantri")
    assert client.delete(f"{url}/memberships/{health}").status_code == 204
    api.assert_problem(client.delete(f"{url}/memberships/{health}"), 404)
    api.act_as(client, province, "lan.nguyen", "read")
    assert api.all_pages(client, "/api/v1/assets") == []
    created_event = api.audit_trail(province, "users", user["id"])[0]
    assert created_event.actor == "user:quantri"
    assert created_event.after and created_event.after["password_hash"] == REDACTED_NEW_VALUE
    with province.session() as session:
        memberships = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "memberships").order_by(AuditEvent.id)
        )
        mine = [(e.action, e.actor) for e in memberships if e.actor.startswith("user:")]
    assert mine == [
        ("create", "user:quantri"),
        ("update", "user:quantri"),
        ("delete", "user:quantri"),
    ]


def test_bad_accounts_and_self_lockout_are_refused(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "quantri")
    before = api.all_pages(client, URL)
    for body, field in (
        ({"username": "hoa", "password": "ngắn"}, "password"),
        ({"username": "hoa", "password": "hoa-mat-khau-dai"}, "password"),
        ({"username": "Hoa Tran", "password": PASSWORD}, "username"),
        ({"username": "hoa", "password": PASSWORD, "language": "fr"}, "language"),
        ({"username": "hoa", "password": PASSWORD, "is_admin": True}, "is_admin"),
    ):
        refused = api.assert_problem(client.post(URL, json=body), 422)
        assert refused["errors"][0]["location"] == ["body", field], body
    repeat = client.post(URL, json={"username": "SYT", "password": PASSWORD})
    assert "already exists" in api.assert_problem(repeat, 409)["detail"]
    me, other = _user_id(client, "quantri"), _user_id(client, "stc")
    api.assert_problem(client.patch(f"{URL}/{me}", json={"is_active": False}), 409)
    api.assert_problem(client.delete(f"{URL}/{me}/memberships/1"), 409)
    api.assert_problem(client.put(f"{URL}/{me}/memberships/2", json={"role": "member_staff"}), 409)
    api.assert_problem(client.put(f"{URL}/{other}/memberships/2", json={"role": "king"}), 422)
    api.assert_problem(
        client.put(f"{URL}/{other}/memberships/99999", json={"role": "member_staff"}), 404
    )
    api.assert_problem(client.get(f"{URL}/99999"), 404)
    api.assert_problem(client.patch(f"{URL}/{other}", json={"is_active": None}), 422)
    assert api.all_pages(client, URL) == before


def test_deactivation_and_password_reset_sign_the_user_out(
    client: TestClient, province: Database
) -> None:
    staff_token = api.token_for(province, "stc", ("read",))
    sign_in(client, "syt")
    api.act_as(client, province, "quantri")
    staff, manager = _user_id(client, "stc"), _user_id(client, "syt")
    off = client.patch(f"{URL}/{staff}", json={"is_active": False, "display_name": "Đã nghỉ"})
    assert off.status_code == 200 and not off.json()["is_active"]
    assert [u["username"] for u in api.all_pages(client, URL, is_active="false")] == ["stc"]
    refused = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {staff_token}"})
    api.assert_problem(refused, 401)
    assert client.patch(f"{URL}/{staff}", json={"is_active": True}).status_code == 200
    allowed = client.get("/api/v1/assets", headers={"Authorization": f"Bearer {staff_token}"})
    assert allowed.status_code == 200
    weak = client.post(f"{URL}/{manager}/password", json={"password": "short"})
    assert api.assert_problem(weak, 422)["errors"][0]["location"] == ["body", "password"]
    reset = client.post(f"{URL}/{manager}/password", json={"password": " " + PASSWORD})
    assert reset.status_code == 204 and reset.content == b""
    assert client.get(f"{URL}/{manager}").json()["must_change_password"] is True
    del client.headers["Authorization"]
    api.assert_problem(client.get("/api/v1/assets"), 401)  # the browser session was closed
    with province.session() as session:
        assert authenticate(session, "syt", " " + PASSWORD) is not None
        assert find_user(session, "syt").must_change_password


def test_only_administrators_manage_users(client: TestClient, province: Database) -> None:
    health = api.organisation_id(province, "SYT")
    for username, scopes in (
        ("syt", ("read", "write")),
        ("stc", ("read", "write")),
        ("phantich", ("read", "write")),
        ("quantri", ("read",)),
    ):
        api.act_as(client, province, username, *scopes)
        api.assert_problem(client.get(URL), 403)
        api.assert_problem(client.get(f"{URL}/1/memberships"), 403)
        api.assert_problem(client.post(URL, json={"username": "x1", "password": PASSWORD}), 403)
        api.assert_problem(
            client.put(f"{URL}/4/memberships/{health}", json={"role": "member_staff"}), 403
        )
        api.assert_problem(client.post(f"{URL}/1/password", json={"password": PASSWORD}), 403)


def test_pages_and_literal_search(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "quantri")
    listing = client.get(URL, params={"limit": 500})
    assert "password_hash" not in listing.text and "argon2" not in listing.text
    everything = listing.json()["items"]
    assert [u["username"] for u in everything][:6] == [
        "quantri",
        "phantich",
        "truc.ban",
        "syt",
        "stc",
        "nhamang",
    ]
    assert api.all_pages(client, URL, limit=2) == everything
    assert [u["username"] for u in api.all_pages(client, URL, search="TRUC.")] == ["truc.ban"]
    for text in api.SQL_META:
        assert api.all_pages(client, URL, search=text) == [], text
