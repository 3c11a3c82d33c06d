"""/api/v1/assets: addresses kept as rows, filters, two-query pages, tenancy, tokens, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import api_support as api
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from garrison.auth.tokens import revoke_token
from garrison.core.db import Database
from garrison.orgs.models import Asset, AssetAddress

from web_client import sign_in

URL = "/api/v1/assets"


def _asset(organisation: int, name: str, **fields: Any) -> dict[str, Any]:
    return {"organisation_id": organisation, "name": name, **fields}


def _count(database: Database) -> tuple[int, int]:
    with database.session() as session:
        assets = session.scalar(select(func.count()).select_from(Asset)) or 0
        addresses = session.scalar(select(func.count()).select_from(AssetAddress)) or 0
        return assets, addresses


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def test_create_keeps_addresses_as_rows_and_audits_them(
    client: TestClient, province: Database
) -> None:
    health = api.organisation_id(province, "SYT")
    api.act_as(client, province, "syt")
    created = client.post(
        URL,
        json=_asset(
            health,
            "Máy chủ xét nghiệm",
            kind="database server",
            addresses=["2001:EE0:0:0::10", " 14.176.5.9 ", "14.176.5.9"],
            hostnames=["XetNghiem.syt.sonlam.gov.vn", "xetnghiem.syt.sonlam.gov.vn."],
            security_level=3,
            level_approved_on="2024-05-02",
            internet_facing=True,
        ),
    )
    assert created.status_code == 201, created.text
    asset = created.json()
    assert asset["addresses"] == ["14.176.5.9", "2001:ee0::10"]
    assert asset["hostnames"] == ["xetnghiem.syt.sonlam.gov.vn"]
    url = f"{URL}/{asset['id']}"
    changed = client.patch(url, json={"addresses": ["14.176.5.9", "14.176.5.10"], "notes": "mới"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["addresses"] == ["14.176.5.9", "14.176.5.10"]
    assert client.get(url).json() == changed.json()
    found = api.all_pages(client, URL, address="14.176.5.10")
    assert [a["id"] for a in found] == [asset["id"]]
    assert api.all_pages(client, URL, address="2001:ee0::10") == []
    trail = api.audit_trail(province, "assets", asset["id"])
    assert [(e.action, e.actor) for e in trail] == [
        ("create", "user:syt"),
        ("update", "user:syt"),
        ("update", "user:syt"),
        ("update", "user:syt"),
    ]
    assert trail[1].after == {"addresses": ["14.176.5.9", "2001:ee0::10"]}
    assert {"notes": "mới"} in [e.after for e in trail[2:]]
    assert {"addresses": ["14.176.5.9", "14.176.5.10"]} in [e.after for e in trail[2:]]
    assert client.delete(url).status_code == 204
    api.assert_problem(client.get(url), 404)
    assert api.all_pages(client, URL, address="14.176.5.9") == []


def test_bad_assets_are_refused_and_nothing_is_stored(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "syt")
    before = _count(province)
    health = api.organisation_id(province, "SYT")
    cases = [
        (_asset(health, "A", security_level=9), ["body", "security_level"]),
        (_asset(health, "A", security_level=0), ["body", "security_level"]),
        (_asset(health, "A", addresses=["10.0.0.1", "10.0.0.300"]), ["body", "addresses"]),
        (_asset(health, "A", addresses=["fe80::1%eth0"]), ["body", "addresses"]),
        (_asset(health, "A", hostnames=["http://x.vn/"]), ["body", "hostnames"]),
        (_asset(health, "A", level_approved_on="2024-01-01"), ["body", "level_approved_on"]),
        (_asset(health, "A", colour="red"), ["body", "colour"]),
        (_asset(health, ""), ["body", "name"]),
        (_asset(health, "A\x00B"), ["body", "name"]),
    ]
    for body, location in cases:
        refused = api.assert_problem(client.post(URL, json=body), 422)
        assert refused["errors"][0]["location"][:2] == location, body
    existing = api.all_pages(client, URL, organisation_id=health)[0]
    repeat = client.post(URL, json=_asset(health, existing["name"]))
    assert "already has an asset" in api.assert_problem(repeat, 409)["detail"]
    url = f"{URL}/{existing['id']}"
    api.assert_problem(client.patch(url, json={"security_level": 9}), 422)
    api.assert_problem(client.patch(url, json={"name": None}), 422)
    api.assert_problem(client.patch(url, json={"addresses": ["1.2.3"]}), 422)
    assert client.get(url).json() == existing
    assert _count(province) == before


def test_filters_search_literally(client: TestClient, province: Database) -> None:
    health = api.organisation_id(province, "SYT")
    api.act_as(client, province, "quantri")
    odd_name = "Máy 100% _thử_ \\ 'x' --"
    odd = client.post(URL, json=_asset(health, odd_name)).json()
    for text in ("%", "_", "\\", "100% _", "'x' --"):
        assert [a["id"] for a in api.all_pages(client, URL, search=text)] == [odd["id"]], text
    for text in api.SQL_META[:1] + api.SQL_META[4:]:
        assert api.all_pages(client, URL, search=text) == [], text
    portal = api.all_pages(client, URL, search="PORTAL.skhcn")
    assert [a["hostnames"] for a in portal] == [["portal.skhcn.sonlam.gov.vn"]]
    levels = api.all_pages(client, URL, security_level=4, internet_facing="true")
    assert levels and all(a["security_level"] == 4 and a["internet_facing"] for a in levels)
    own = api.all_pages(client, URL, organisation_id=health, internet_facing="false")
    assert own and all(a["organisation_id"] == health and not a["internet_facing"] for a in own)
    api.assert_problem(client.get(URL, params={"security_level": 9}), 422)
    api.assert_problem(client.get(URL, params={"address": "' OR 1=1 --"}), 422)


def test_pages_have_no_gaps_or_repeats_and_cost_two_queries(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "truc.ban", "read")
    everything = client.get(URL, params={"limit": 500}).json()["items"]
    assert len(everything) == 304
    paged = api.all_pages(client, URL, limit=37)
    assert [a["id"] for a in paged] == sorted(a["id"] for a in everything)
    assert paged == everything
    with _statements(province) as seen:
        page = client.get(URL, params={"limit": 100}).json()
    assert len(page["items"]) == 100 and sum(len(a["addresses"]) for a in page["items"]) > 100
    assert len([s for s in seen if " FROM assets " in f"{s} "]) == 1, seen
    assert len([s for s in seen if "FROM asset_addresses" in s]) == 1, seen


def test_member_reaches_its_tree_only_and_moves_need_both_sides(
    client: TestClient, province: Database
) -> None:
    health, centre = api.organisation_id(province, "SYT"), api.organisation_id(province, "CDC")
    hospital, finance = api.organisation_id(province, "BVDK"), api.organisation_id(province, "STC")
    api.act_as(client, province, "stc")
    theirs = api.all_pages(client, URL)
    assert theirs and {a["organisation_id"] for a in theirs} == {finance}
    staff_made = client.post(URL, json=_asset(finance, "Máy trạm kế toán", addresses=["1.1.1.1"]))
    assert staff_made.status_code == 201, staff_made.text
    api.act_as(client, province, "syt")
    visible = api.all_pages(client, URL)
    assert {a["organisation_id"] for a in visible} == {health, centre, hospital}
    other = f"{URL}/{theirs[0]['id']}"
    api.assert_problem(client.get(other), 404)
    api.assert_problem(client.patch(other, json={"notes": "x"}), 404)
    api.assert_problem(client.delete(other), 404)
    assert api.all_pages(client, URL, address="1.1.1.1") == []
    api.assert_problem(client.post(URL, json=_asset(finance, "Xâm nhập")), 403)
    own = f"{URL}/{visible[0]['id']}"
    api.assert_problem(client.patch(own, json={"organisation_id": finance}), 403)
    assert client.get(own).json() == visible[0]
    moved = client.patch(own, json={"organisation_id": centre})
    assert moved.status_code == 200 and moved.json()["organisation_id"] == centre


def test_tokens_read_only_forged_expired_and_revoked(
    client: TestClient, province: Database
) -> None:
    health = api.organisation_id(province, "SYT")
    before = _count(province)
    api.act_as(client, province, "syt", "read")
    asset = api.all_pages(client, URL, organisation_id=health)[0]
    assert client.get(f"{URL}/{asset['id']}").status_code == 200
    api.assert_problem(client.post(URL, json=_asset(health, "Chỉ đọc")), 403)
    api.assert_problem(client.patch(f"{URL}/{asset['id']}", json={"notes": "x"}), 403)
    api.assert_problem(client.delete(f"{URL}/{asset['id']}"), 403)
    expired = api.token_for(province, "syt", valid_for=timedelta(seconds=-1))
    revoked = api.token_for(province, "syt")
    with province.session() as session:
        revoke_token(session, revoked.split("_")[1])
    for secret in (expired, revoked, revoked + "x", "gar_0123456789ab_forged", "not-a-token"):
        client.headers["Authorization"] = f"Bearer {secret}"
        body = api.assert_problem(client.get(URL), 401)
        assert "token" in body["detail"]
        api.assert_problem(client.post(URL, json=_asset(health, "Giả mạo")), 401)
    del client.headers["Authorization"]
    api.assert_problem(client.get(URL), 401)
    assert _count(province) == before


def test_browser_session_writes_need_the_csrf_token(client: TestClient, province: Database) -> None:
    health = api.organisation_id(province, "SYT")
    csrf = sign_in(client, "syt")
    assert client.get(URL).status_code == 200
    api.assert_problem(client.post(URL, json=_asset(health, "Không có mã")), 403)
    made = client.post(URL, json=_asset(health, "Có mã"), headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
