"""Components: under their asset for listing and adding, by id for the rest; validated as
imports validate them; hidden with their asset."""

from __future__ import annotations

import api_support as api
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from garrison.core.db import Database
from garrison.orgs.models import Component

CPE = "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*"


def _first_asset(client: TestClient, organisation: int) -> int:
    assets = api.all_pages(client, "/api/v1/assets", organisation_id=organisation)
    return next(a["id"] for a in assets if api.all_pages(client, _listing(a["id"])))


def _listing(asset_id: int) -> str:
    return f"/api/v1/assets/{asset_id}/components"


def test_add_change_and_remove_a_component(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "syt")
    asset = _first_asset(client, api.organisation_id(province, "SYT"))
    created = client.post(_listing(asset), json={"cpe": CPE, "vendor": "F5", "product": "nginx"})
    assert created.status_code == 201, created.text
    component = created.json()
    assert component["ref"] == CPE and component["asset_id"] == asset
    by_name = client.post(_listing(asset), json={"vendor": "Oracle", "product": "MySQL"})
    assert by_name.json()["ref"] == "Oracle/MySQL/"
    repeat = client.post(_listing(asset), json={"cpe": CPE})
    assert CPE in api.assert_problem(repeat, 409)["detail"]
    url = f"/api/v1/components/{component['id']}"
    changed = client.patch(url, json={"cpe": None, "purl": "pkg:generic/nginx@1.26.0"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["ref"] == "pkg:generic/nginx@1.26.0"
    assert changed.json()["vendor"] == "F5" and changed.json()["cpe"] is None
    assert client.get(url).json() == changed.json()
    assert client.delete(url).status_code == 204
    api.assert_problem(client.get(url), 404)
    trail = api.audit_trail(province, "components", component["id"])
    assert [(e.action, e.actor) for e in trail] == [
        ("create", "user:syt"),
        ("update", "user:syt"),
        ("delete", "user:syt"),
    ]


def test_bad_components_are_refused(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "syt")
    asset = _first_asset(client, api.organisation_id(province, "SYT"))
    before = api.all_pages(client, _listing(asset))
    for body, field in (
        ({"cpe": "cpe:2.3:a:nginx"}, "cpe"),
        ({"purl": "nginx@1.2"}, "purl"),
        ({"vendor": "nginx"}, "product"),
        ({}, "product"),
        ({"product": "x" * 201}, "product"),
    ):
        refused = api.assert_problem(client.post(_listing(asset), json=body), 422)
        assert refused["errors"][0]["location"] == ["body", field], body
    component = before[0]
    url = f"/api/v1/components/{component['id']}"
    cleared = {"cpe": None, "purl": None, "product": None}
    api.assert_problem(client.patch(url, json=cleared), 422)
    assert api.all_pages(client, _listing(asset)) == before
    api.assert_problem(client.get(_listing(2_000_000_000)), 404)


def test_pages_and_literal_search(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "phantich", "read")
    with province.session() as session:
        most = select(Component.asset_id).group_by(Component.asset_id)
        asset = session.scalar(most.order_by(func.count().desc(), Component.asset_id).limit(1))
    everything = client.get(_listing(asset), params={"limit": 500}).json()["items"]
    assert len(everything) >= 3
    assert api.all_pages(client, _listing(asset), limit=2) == everything
    product = everything[0]["product"]
    assert everything[0] in api.all_pages(client, _listing(asset), search=product.upper())
    underscored = [c for c in everything if "_" in c["ref"]]
    assert 0 < len(underscored) < len(everything)
    assert api.all_pages(client, _listing(asset), search="_") == underscored
    for text in (t for t in api.SQL_META if t != "_"):
        assert api.all_pages(client, _listing(asset), search=text) == [], text


def test_components_of_hidden_assets_are_hidden(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "stc")
    finance_asset = _first_asset(client, api.organisation_id(province, "STC"))
    component = api.all_pages(client, _listing(finance_asset))[0]
    added = client.post(_listing(finance_asset), json={"product": "LibreOffice"})
    assert added.status_code == 201, added.text
    api.act_as(client, province, "syt")
    url = f"/api/v1/components/{component['id']}"
    api.assert_problem(client.get(_listing(finance_asset)), 404)
    api.assert_problem(client.post(_listing(finance_asset), json={"product": "x"}), 404)
    api.assert_problem(client.get(url), 404)
    api.assert_problem(client.patch(url, json={"version": "1"}), 404)
    api.assert_problem(client.delete(url), 404)
    api.act_as(client, province, "nhamang", "read", "write")
    api.assert_problem(client.get(url), 404)
