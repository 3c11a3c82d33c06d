"""/api/v1/domains: IDN normalisation, host look-ups, pages, changes, tenancy."""

from __future__ import annotations

import api_support as api
import idna
from fastapi.testclient import TestClient

from garrison.core.db import Database

URL = "/api/v1/domains"


def test_host_finds_its_registered_domains_and_search_is_literal(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "truc.ban", "read")
    health = api.organisation_id(province, "SYT")
    found = api.all_pages(client, URL, host="WWW.syt.sonlam.gov.vn.")
    assert {(d["name"], d["organisation_id"]) for d in found} >= {("syt.sonlam.gov.vn", health)}
    assert {d["name"] for d in found} <= {"syt.sonlam.gov.vn", "sonlam.gov.vn"}
    assert api.all_pages(client, URL, host="example.org") == []
    api.assert_problem(client.get(URL, params={"host": "no-dot"}), 422)
    idn = api.all_pages(client, URL, host="cổng.sởytếsơnlâm.vn")
    assert [d["organisation_id"] for d in idn] == [health]
    assert [d["name"] for d in api.all_pages(client, URL, search="SYT.sonlam")] == [
        "syt.sonlam.gov.vn"
    ]
    for text in api.SQL_META:
        assert api.all_pages(client, URL, search=text) == [], text
    everything = client.get(URL, params={"limit": 500}).json()["items"]
    assert api.all_pages(client, URL, limit=6) == everything and len(everything) == 44


def test_create_rename_move_delete(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "phantich")
    finance, health = api.organisation_id(province, "STC"), api.organisation_id(province, "SYT")
    created = client.post(URL, json={"name": " Tài-Chính.SơnLâm.vn. ", "organisation_id": finance})
    assert created.status_code == 201, created.text
    domain = created.json()
    assert (
        domain["name"]
        == idna.encode("tài-chính.sơnlâm.vn").decode()
        == ("xn--ti-chnh-8va5j.xn--snlm-doa75i.vn")
    )
    again = client.post(URL, json={"name": "tài-chính.sơnlâm.vn", "organisation_id": health})
    assert "already registered" in api.assert_problem(again, 409)["detail"]
    for bad in ("https://stc.gov.vn/", "localhost", "a b.vn", "-bad-.vn"):
        refused = client.post(URL, json={"name": bad, "organisation_id": finance})
        assert api.assert_problem(refused, 422)["errors"][0]["location"] == ["body", "name"]
    url = f"{URL}/{domain['id']}"
    renamed = client.patch(url, json={"name": "stc-moi.vn", "organisation_id": health})
    assert renamed.json() == {"id": domain["id"], "name": "stc-moi.vn", "organisation_id": health}
    taken = client.patch(url, json={"name": "syt.sonlam.gov.vn"})
    api.assert_problem(taken, 409)
    assert client.get(url).json()["name"] == "stc-moi.vn"
    assert client.delete(url).status_code == 204
    api.assert_problem(client.get(url), 404)
    trail = api.audit_trail(province, "domains", domain["id"])
    assert [e.action for e in trail] == ["create", "update", "delete"]
    assert {e.actor for e in trail} == {"user:phantich"}


def test_member_reads_own_domains_only_and_cannot_edit(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "phantich", "read")
    finance_domain = api.all_pages(
        client, URL, organisation_id=api.organisation_id(province, "STC")
    )[0]
    api.act_as(client, province, "stc")
    visible = api.all_pages(client, URL)
    assert {d["organisation_id"] for d in visible} == {api.organisation_id(province, "STC")}
    own = client.get(f"{URL}/{finance_domain['id']}")
    assert own.status_code == 200
    api.assert_problem(client.patch(f"{URL}/{finance_domain['id']}", json={"name": "x.vn"}), 403)
    api.act_as(client, province, "syt")
    api.assert_problem(client.get(f"{URL}/{finance_domain['id']}"), 404)
    assert api.all_pages(client, URL, host="stc.sonlam.gov.vn") == []
