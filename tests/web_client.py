"""Signing in to the web app through its real form, as a person would."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from garrison.auth.demo_accounts import DEMO_PASSWORD

CSRF_IN_PAGE = re.compile(r'data-csrf="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token the pages carry."""
    response = client.post(
        "/login", data={"username": username, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    page = client.get("/")
    match = CSRF_IN_PAGE.search(page.text)
    assert match, "signed-in pages carry a CSRF token"
    return match.group(1)
