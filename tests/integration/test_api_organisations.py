"""/api/v1/organisations: listing, filters, pages, changes, tenancy and errors."""

from __future__ import annotations

import api_support as api
from fastapi.testclient import TestClient

from garrison.core.db import Database

URL = "/api/v1/organisations"


def test_pages_cover_every_organisation_once_in_id_order(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "phantich", "read")
    everything = client.get(URL, params={"limit": 500}).json()
    assert everything["next_cursor"] is None and len(everything["items"]) == 41
    paged = api.all_pages(client, URL, limit=7)
    assert [o["id"] for o in paged] == [o["id"] for o in everything["items"]]
    assert [o["id"] for o in paged] == sorted({o["id"] for o in paged})


def test_filters_by_kind_parent_and_literal_search(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "truc.ban", "read")
    districts = api.all_pages(client, URL, kind="district")
    assert len(districts) == 10 and {o["kind_code"] for o in districts} == {"district"}
    health = api.organisation_id(province, "SYT")
    units = api.all_pages(client, URL, parent_id=health)
    assert {o["short_name"] for o in units} == {"BVDK", "CDC"}
    found = api.all_pages(client, URL, search="y tế")
    assert [o["short_name"] for o in found] == ["SYT"]
    for text in api.SQL_META:
        assert api.all_pages(client, URL, search=text) == [], text


def test_create_change_and_delete_are_audited(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "quantri")
    created = client.post(
        URL,
        json={"name": " Sở Ngoại vụ mới ", "short_name": "SNVM", "kind_code": "department"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Sở Ngoại vụ mới" and body["parent_id"] is None
    new_id = body["id"]
    parent = api.organisation_id(province, "VPUBND")
    changed = client.patch(f"{URL}/{new_id}", json={"parent_id": parent, "notes": "sáp nhập"})
    assert changed.status_code == 200 and changed.json()["parent_id"] == parent
    assert client.get(f"{URL}/{new_id}").json()["notes"] == "sáp nhập"
    assert client.delete(f"{URL}/{new_id}").status_code == 204
    api.assert_problem(client.get(f"{URL}/{new_id}"), 404)
    trail = api.audit_trail(province, "organisations", new_id)
    assert [e.action for e in trail] == ["create", "update", "delete"]
    assert {e.actor for e in trail} == {"user:quantri"}


def test_bad_input_is_refused_and_nothing_stored(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "quantri")
    clash = client.post(URL, json={"name": "Sở Y tế tỉnh Sơn Lâm", "kind_code": "department"})
    assert "already exists" in api.assert_problem(clash, 409)["detail"]
    unknown = client.post(URL, json={"name": "X", "kind_code": "ministry"})
    assert api.assert_problem(unknown, 422)["errors"][0]["location"] == ["body", "kind_code"]
    health = api.organisation_id(province, "SYT")
    hospital = api.organisation_id(province, "BVDK")
    cycle = client.patch(f"{URL}/{health}", json={"parent_id": hospital})
    assert "under itself" in api.assert_problem(cycle, 422)["detail"]
    api.assert_problem(client.patch(f"{URL}/{health}", json={"name": None}), 422)
    api.assert_problem(client.post(URL, json={"name": "X", "kind_code": "other", "boss": 1}), 422)
    assert len(api.all_pages(client, URL)) == 41


def test_member_sees_own_tree_and_cannot_reach_others(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "syt")
    visible = {o["short_name"] for o in api.all_pages(client, URL)}
    assert visible == {"SYT", "BVDK", "CDC"}
    finance = api.organisation_id(province, "STC")
    api.assert_problem(client.get(f"{URL}/{finance}"), 404)
    api.assert_problem(client.patch(f"{URL}/{finance}", json={"notes": "x"}), 404)
    api.assert_problem(client.delete(f"{URL}/{finance}"), 404)
    health = api.organisation_id(province, "SYT")
    api.assert_problem(client.patch(f"{URL}/{health}", json={"notes": "x"}), 403)
    api.assert_problem(client.post(URL, json={"name": "Y", "kind_code": "other"}), 403)


def test_read_only_token_cannot_write(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "quantri", "read")
    assert client.get(URL).status_code == 200
    api.assert_problem(client.post(URL, json={"name": "Z", "kind_code": "other"}), 403)
