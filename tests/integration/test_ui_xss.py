"""Markup in any text field is shown as text on every page that shows it, never run."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from garrison.auth.accounts import create_user, grant_membership
from garrison.auth.roles import Role
from garrison.core.db import Database
from garrison.orgs.models import Asset, Contact, Organisation

from web_client import sign_in

pytestmark = pytest.mark.db
SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")


def _only_escaped(page: str, where: str, *, shown: bool = True) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page, where
    if shown:
        for escaped in ESCAPED:
            assert escaped in page, f"{where} shows {escaped}"


@pytest.fixture
def hostile(province: Database) -> dict[str, int]:
    """Organisations, a contact, assets and a user whose every text field is markup."""
    with province.session() as session:
        first = Organisation(name=SCRIPT, short_name=IMAGE, kind_code="other", notes=SCRIPT + IMAGE)
        second = Organisation(name=IMAGE, short_name=SCRIPT, kind_code="other", parent=first)
        first.contacts.append(Contact(name=SCRIPT, role=IMAGE, email=IMAGE, phones=[SCRIPT, IMAGE]))
        first.assets.append(
            Asset(
                name=SCRIPT,
                kind=IMAGE,
                hostnames=[SCRIPT, IMAGE],
                operating_system=IMAGE,
                notes=SCRIPT,
            )
        )
        second.assets.append(Asset(name=IMAGE, kind=SCRIPT, hostnames=[IMAGE]))
        session.add_all([first, second])
        session.flush()
        user = create_user(
            session, "markup.user", "mat-khau-rat-dai-2024", display_name=SCRIPT, email=IMAGE
        )
        grant_membership(session, user, str(first.id), Role.MEMBER_STAFF)
        return {"first": first.id, "second": second.id, "user": user.id}


def test_stored_markup_is_escaped_on_every_page(
    client: TestClient, hostile: dict[str, int]
) -> None:
    sign_in(client, "quantri")
    pages = [
        "/organisations",
        f"/organisations/{hostile['first']}",
        f"/organisations/{hostile['second']}",
        "/assets",
        f"/assets?organisation={hostile['first']}",
        "/assets?search=alert",
        "/users",
        f"/users/{hostile['user']}",
        "/audit?entity=organisations",
        "/audit?entity=assets",
        "/audit?entity=contacts",
        "/audit?entity=users",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        _only_escaped(response.text, path)
    partial = client.get("/assets?search=alert", headers={"HX-Request": "true"})
    _only_escaped(partial.text, "the HTMX rows")
    member = client.get("/users?search=markup")
    assert "markup.user" in member.text


def test_reflected_markup_is_escaped(client: TestClient) -> None:
    sign_in(client, "quantri")
    for path, parameter in [
        ("/organisations", "search"),
        ("/assets", "search"),
        ("/users", "search"),
        ("/audit", "actor"),
    ]:
        for payload in (SCRIPT, IMAGE):
            response = client.get(path, params={parameter: payload})
            assert response.status_code == 200, path
            _only_escaped(response.text, path, shown=False)
    missing = client.get("/organisations/0")
    assert missing.status_code == 404
    refused = client.get("/assets", params={"level": SCRIPT})
    assert refused.status_code == 422
    _only_escaped(refused.text, "a refused filter", shown=False)
