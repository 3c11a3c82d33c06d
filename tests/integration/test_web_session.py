"""Signing in and out, CSRF, language, and errors as pages or problem details."""

from __future__ import annotations

from fastapi.testclient import TestClient

from web_client import sign_in


def test_pages_need_sign_in_and_remember_where_to_go(client: TestClient) -> None:
    response = client.get("/organisations?search=y", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/organisations%3Fsearch%3Dy"


def test_sign_in_shows_vietnamese_dashboard_with_charts(client: TestClient) -> None:
    sign_in(client, "quantri")
    page = client.get("/")
    assert page.status_code == 200
    assert "Tổng quan" in page.text and "Tài sản theo cấp độ an toàn" in page.text
    assert page.text.count("<canvas") >= 2
    assert "Content-Security-Policy" in page.headers


def test_wrong_password_is_refused_and_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        refused = client.post("/login", data={"username": "quantri", "password": "nope"})
        assert refused.status_code == 401
        assert "Sai tên đăng nhập hoặc mật khẩu." in refused.text
    locked = client.post("/login", data={"username": "quantri", "password": "garrison-demo"})
    assert locked.status_code == 429


def test_language_switch_to_english(client: TestClient) -> None:
    sign_in(client, "quantri")
    client.get("/language/en?next=/", follow_redirects=False)
    page = client.get("/")
    assert "Assets by security level" in page.text and 'lang="en"' in page.text


def test_logout_needs_csrf_and_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client, "quantri")
    forged = client.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    done = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_forged_session_cookie_is_just_signed_out(client: TestClient) -> None:
    client.cookies.set("garrison_session", "forged-value")
    assert client.get("/", follow_redirects=False).status_code == 303
    api = client.get("/api/v1/organisations")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/problem+json"


def test_open_redirect_is_refused(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={"username": "quantri", "password": "garrison-demo", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_member_sees_only_own_organisations(client: TestClient) -> None:
    sign_in(client, "syt")
    page = client.get("/organisations")
    assert "Sở Y tế" in page.text and "Sở Tài chính" not in page.text
    api = client.get("/api/v1/organisations?limit=500").json()
    names = {item["name"] for item in api["items"]}
    assert names and all("Y tế" in n or "Bệnh viện" in n or "Trung tâm" in n for n in names)


def test_api_docs_are_served_without_cdn(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/organisations" in schema["paths"]
