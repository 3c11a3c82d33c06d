"""/api/v1/contacts: a member manager keeps its own tree's contacts, and nobody else's."""

from __future__ import annotations

import api_support as api
from fastapi.testclient import TestClient

from garrison.core.db import Database

URL = "/api/v1/contacts"


def test_pages_and_literal_search(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "truc.ban", "read")
    everything = client.get(URL, params={"limit": 500}).json()["items"]
    assert len(everything) == 79
    assert api.all_pages(client, URL, limit=8) == everything
    someone = everything[0]
    mailbox = someone["email"].split("@")[0]
    assert someone in api.all_pages(client, URL, search=mailbox.upper())
    assert api.all_pages(client, URL, organisation_id=someone["organisation_id"], search=mailbox)
    for text in api.SQL_META:
        assert api.all_pages(client, URL, search=text) == [], text


def test_member_manager_keeps_contacts_of_its_tree(client: TestClient, province: Database) -> None:
    health, centre = api.organisation_id(province, "SYT"), api.organisation_id(province, "CDC")
    finance = api.organisation_id(province, "STC")
    api.act_as(client, province, "syt")
    created = client.post(
        URL,
        json={
            "organisation_id": centre,
            "name": "Trần Thị Mai",
            "role": "Đầu mối ứng cứu sự cố",
            "email": "MaiTT@CDC.sonlam.gov.vn",
            "phones": ["+84912345678"],
            "language": "vi",
        },
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["email"] == "maitt@cdc.sonlam.gov.vn" and contact["phones"] == ["+84912345678"]
    repeat = client.post(URL, json={"organisation_id": centre, "name": "Trần Thị Mai"})
    assert "already has a contact" in api.assert_problem(repeat, 409)["detail"]
    url = f"{URL}/{contact['id']}"
    changed = client.patch(url, json={"organisation_id": health, "email": None, "language": "en"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["organisation_id"] == health and changed.json()["email"] is None
    api.assert_problem(client.patch(url, json={"organisation_id": finance}), 403)
    assert client.get(url).json()["organisation_id"] == health
    api.assert_problem(client.post(URL, json={"organisation_id": finance, "name": "Lê Văn B"}), 403)
    assert client.delete(url).status_code == 204
    trail = api.audit_trail(province, "contacts", contact["id"])
    assert [(e.action, e.actor) for e in trail] == [
        ("create", "user:syt"),
        ("update", "user:syt"),
        ("delete", "user:syt"),
    ]


def test_bad_contacts_are_refused(client: TestClient, province: Database) -> None:
    health = api.organisation_id(province, "SYT")
    api.act_as(client, province, "syt")
    for body, field in (
        ({"email": "not-an-address"}, "email"),
        ({"language": "fr"}, "language"),
        ({"phones": ["1"]}, "phones"),
        ({"name": "   "}, "name"),
    ):
        refused = client.post(URL, json={"organisation_id": health, "name": "Ngô Văn C", **body})
        assert api.assert_problem(refused, 422)["errors"][0]["location"][:2] == ["body", field]
    assert api.all_pages(client, URL, search="Ngô Văn C") == []


def test_others_are_hidden_and_staff_cannot_edit_contacts(
    client: TestClient, province: Database
) -> None:
    finance = api.organisation_id(province, "STC")
    api.act_as(client, province, "stc")
    own = api.all_pages(client, URL)
    assert own and {c["organisation_id"] for c in own} == {finance}
    api.assert_problem(client.patch(f"{URL}/{own[0]['id']}", json={"role": "x"}), 403)
    api.assert_problem(client.post(URL, json={"organisation_id": finance, "name": "Mới"}), 403)
    api.act_as(client, province, "syt")
    api.assert_problem(client.get(f"{URL}/{own[0]['id']}"), 404)
    api.assert_problem(client.delete(f"{URL}/{own[0]['id']}"), 404)
