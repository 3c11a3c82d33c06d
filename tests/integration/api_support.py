"""What the API tests share: Bearer tokens for the demo accounts, organisation ids, pages
followed to the end, and problem+json checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from garrison.auth.accounts import find_user
from garrison.auth.tokens import issue_token
from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.orgs.models import Organisation

SQL_META = ("' OR 1=1 --", "%", "_", "\\", '"; DROP TABLE assets; --')


def token_for(
    database: Database,
    username: str,
    scopes: tuple[str, ...] = ("read", "write"),
    valid_for: timedelta | None = None,
) -> str:
    with database.session() as session:
        user = find_user(session, username)
        return issue_token(session, user, "api tests", set(scopes), valid_for).secret


def act_as(client: TestClient, database: Database, username: str, *scopes: str) -> TestClient:
    """From now on the client calls the API with a fresh token of `username`."""
    token = token_for(database, username, scopes or ("read", "write"))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def organisation_id(database: Database, short_name: str) -> int:
    with database.session() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.short_name == short_name))
        assert found is not None, short_name
        return found


def all_pages(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following next_cursor to the end."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem details with this status; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and "detail" in body
    if status == 422:
        assert body["errors"], "a 422 names what is wrong"
    return body


def audit_trail(database: Database, entity: str, entity_id: int) -> list[AuditEvent]:
    """The changes people made to one row (the demo's loading, by the command line, left out)."""
    with database.session() as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .where(AuditEvent.actor.startswith("user:"))
            .order_by(AuditEvent.id)
        )
        return list(session.scalars(query))
