"""/api/v1/networks: most-specific look-ups, filters, pages, CIDR normalisation, tenancy."""

from __future__ import annotations

import ipaddress

import api_support as api
from fastapi.testclient import TestClient

from garrison.core.db import Database

URL = "/api/v1/networks"


def _an_address_of(client: TestClient, organisation: int) -> str:
    own = api.all_pages(client, URL, organisation_id=organisation, version=4)
    return str(ipaddress.ip_network(own[0]["cidr"]).network_address + 2)


def test_contains_lists_most_specific_first_across_pages(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "truc.ban", "read")
    health = api.organisation_id(province, "SYT")
    address = _an_address_of(client, health)
    holders = client.get(URL, params={"contains": address}).json()["items"]
    assert holders[0]["organisation_id"] == health, "the member's range is the most specific"
    assert len(holders) >= 2, "the operator's block holds it too"
    prefixes = [n["prefix_length"] for n in holders]
    assert prefixes == sorted(prefixes, reverse=True)
    for network in holders:
        assert ipaddress.ip_address(address) in ipaddress.ip_network(network["cidr"])
    assert api.all_pages(client, URL, contains=address, limit=1) == holders
    assert client.get(URL, params={"contains": "8.8.8.8"}).json()["items"] == []
    api.assert_problem(client.get(URL, params={"contains": "999.1.1.1"}), 422)


def test_filters_and_pages(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "phantich", "read")
    everything = client.get(URL, params={"limit": 500}).json()["items"]
    paged = api.all_pages(client, URL, limit=9)
    assert [n["id"] for n in paged] == [n["id"] for n in everything]
    assert len({n["id"] for n in paged}) == len(everything) == 84
    v6 = api.all_pages(client, URL, version=6)
    assert v6 and {n["version"] for n in v6} == {6} and all(":" in n["cidr"] for n in v6)
    inside = api.all_pages(client, URL, within="14.176.0.0/16")
    assert inside and all(n["cidr"].startswith("14.176.") for n in inside)
    assert any(n["cidr"] == "14.176.0.0/16" for n in inside)
    assert [n["cidr"] for n in api.all_pages(client, URL, search="103.147.124")] == [
        "103.147.124.0/24"
    ]
    for text in api.SQL_META:
        assert api.all_pages(client, URL, search=text) == [], text
    api.assert_problem(client.get(URL, params={"within": "not a network"}), 422)
    api.assert_problem(client.get(URL, params={"version": 5}), 422)
    api.assert_problem(client.get(URL, params={"cursor": "garbage"}), 422)


def test_create_normalises_warns_and_refuses_repeats(
    client: TestClient, province: Database
) -> None:
    api.act_as(client, province, "phantich")
    finance = api.organisation_id(province, "STC")
    created = client.post(
        URL, json={"cidr": "203.113.170.77/24", "organisation_id": finance, "description": "VPN"}
    )
    assert created.status_code == 201, created.text
    network = created.json()
    assert network["cidr"] == "203.113.170.0/24" and network["prefix_length"] == 24
    assert network["warnings"] == [
        "'203.113.170.77/24' has host bits set; stored as 203.113.170.0/24"
    ]
    clean = client.post(URL, json={"cidr": "2405:4800:5a2::/48", "organisation_id": finance})
    assert clean.status_code == 201 and clean.json()["warnings"] == []
    again = client.post(URL, json={"cidr": "203.113.170.0/24", "organisation_id": finance})
    assert "already registered" in api.assert_problem(again, 409)["detail"]
    for bad in ("203.113.170.0/33", "fe80::1%eth0/64", "nonsense"):
        refused = client.post(URL, json={"cidr": bad, "organisation_id": finance})
        assert api.assert_problem(refused, 422)["errors"][0]["location"] == ["body", "cidr"]
    missing_owner = client.post(URL, json={"cidr": "198.51.100.0/24", "organisation_id": 99999})
    assert "no organisation" in api.assert_problem(missing_owner, 422)["detail"]
    assert len(api.all_pages(client, URL, organisation_id=finance, search="203.113.170")) == 1


def test_change_move_and_delete_are_audited(client: TestClient, province: Database) -> None:
    api.act_as(client, province, "phantich")
    finance, health = api.organisation_id(province, "STC"), api.organisation_id(province, "SYT")
    network = api.all_pages(client, URL, organisation_id=finance)[0]
    moved = client.patch(
        f"{URL}/{network['id']}", json={"organisation_id": health, "description": "chuyển"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["organisation_id"] == health and moved.json()["cidr"] == network["cidr"]
    api.assert_problem(client.patch(f"{URL}/{network['id']}", json={"organisation_id": None}), 422)
    assert client.delete(f"{URL}/{network['id']}").status_code == 204
    api.assert_problem(client.get(f"{URL}/{network['id']}"), 404)
    trail = api.audit_trail(province, "networks", network["id"])
    assert [(e.action, e.actor) for e in trail] == [
        ("update", "user:phantich"),
        ("delete", "user:phantich"),
    ]
    assert trail[0].after == {"organisation_id": health, "description": "chuyển"}


def test_member_sees_only_own_tree_and_cannot_edit_the_registry(
    client: TestClient, province: Database
) -> None:
    health = api.organisation_id(province, "SYT")
    finance = api.organisation_id(province, "STC")
    api.act_as(client, province, "phantich", "read")
    theirs = api.all_pages(client, URL, organisation_id=finance)[0]
    tree = {o["id"] for o in api.all_pages(client, "/api/v1/organisations", parent_id=health)}
    api.act_as(client, province, "syt")
    visible = api.all_pages(client, URL)
    assert visible and {n["organisation_id"] for n in visible} <= {health, *tree}
    api.assert_problem(client.get(f"{URL}/{theirs['id']}"), 404)
    api.assert_problem(client.delete(f"{URL}/{theirs['id']}"), 404)
    assert api.all_pages(client, URL, organisation_id=finance) == []
    own = visible[0]
    api.assert_problem(client.patch(f"{URL}/{own['id']}", json={"description": "x"}), 403)
    api.assert_problem(
        client.post(URL, json={"cidr": "198.51.100.0/24", "organisation_id": health}), 403
    )
