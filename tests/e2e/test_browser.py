"""The web UI in real Chromium: signing in and out, languages, charts, tenancy, live search, XSS,
and the registry import's error report.

Every test runs against the demo province on SQLite and on PostgreSQL, through real clicks and
typing; waits are on selectors and responses, never on the clock.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from garrison.auth.demo_accounts import DEMO_PASSWORD
from garrison.core.db import Database
from garrison.orgs.models import Network, Organisation

# Both canvases of the dashboard carry a Chart.js chart that has painted something.
CHARTS_DRAWN = """
() => {
  const canvases = [...document.querySelectorAll("canvas[data-chart]")];
  if (canvases.length !== 2 || typeof Chart === "undefined") return false;
  return canvases.every((canvas) => {
    const chart = Chart.getChart(canvas);
    if (!chart || canvas.width === 0 || canvas.height === 0) return false;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] !== 0) return true;
    return false;
  });
}
"""
HOSTILE_NAMES = (
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
)


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Type into the sign-in form and press its button, as a person would."""
    page.goto("/login")
    page.locator("input[name=username]").click()
    page.keyboard.type(username)
    page.locator("input[name=password]").click()
    page.keyboard.type(password)
    page.locator("form[action='/login'] button[type=submit]").click()


def expect_dashboard(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.wait_for_function(CHARTS_DRAWN)


def organisation_id(database: Database, short_name: str) -> int:
    with database.session() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.short_name == short_name))
    assert found is not None, short_name
    return found


def test_sign_in_shows_vietnamese_dashboard_with_drawn_charts(page: Page) -> None:
    sign_in(page, "quantri")
    page.wait_for_url("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect_dashboard(page, "Tổng quan")
    expect(page.locator("figcaption")).to_have_text(
        ["Tài sản theo cấp độ an toàn", "Đơn vị theo loại hình"]
    )
    expect(page.locator(".topbar .who")).to_have_text("Quản trị hệ thống")
    sizes = page.eval_on_selector_all(
        "canvas[data-chart]", "all => all.map(c => c.getBoundingClientRect().width)"
    )
    assert len(sizes) == 2 and all(width > 100 for width in sizes), sizes


def test_language_switches_to_english_and_back(page: Page, tmp_path: Path) -> None:
    sign_in(page, "quantri")
    expect_dashboard(page, "Tổng quan")
    page.screenshot(path=tmp_path / "dashboard-vi.png", full_page=True)

    page.locator(".languages").get_by_role("link", name="English").click()
    expect_dashboard(page, "Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("figcaption").first).to_have_text("Assets by security level")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.screenshot(path=tmp_path / "dashboard-en.png", full_page=True)

    page.locator(".topbar nav").get_by_role("link", name="Organisations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations")

    page.locator(".languages").get_by_role("link", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Đơn vị")
    expect(page).to_have_url("/organisations")
    page.locator(".topbar nav").get_by_role("link", name="Tổng quan").click()
    expect_dashboard(page, "Tổng quan")


def test_wrong_password_shows_the_vietnamese_error(page: Page) -> None:
    sign_in(page, "quantri", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập")
    assert not [c for c in page.context.cookies() if c["name"] == "garrison_session"]
    page.goto("/")
    expect(page).to_have_url("/login?next=/")


def test_member_sees_only_its_own_organisations(page: Page, province: Database) -> None:
    stc = organisation_id(province, "STC")
    sign_in(page, "syt")
    expect_dashboard(page, "Tổng quan")

    page.locator(".topbar nav").get_by_role("link", name="Đơn vị").click()
    short_names = page.locator("#organisation-rows tbody tr td:first-child")
    expect(short_names).to_have_count(3)
    assert sorted(short_names.all_inner_texts()) == ["BVDK", "CDC", "SYT"]
    expect(page.locator("#organisation-rows")).not_to_contain_text("Sở Tài chính")

    page.get_by_role("link", name="Sở Y tế tỉnh Sơn Lâm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sở Y tế tỉnh Sơn Lâm")

    answer = page.goto(f"/organisations/{stc}")
    assert answer is not None and answer.status in (403, 404), answer and answer.status
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(answer.status))
    expect(page.locator("main")).not_to_contain_text("Sở Tài chính")
    expect(page.locator("main table")).to_have_count(0)


def test_search_narrows_the_table_without_reloading(page: Page) -> None:
    sign_in(page, "quantri")
    expect_dashboard(page, "Tổng quan")
    page.locator(".topbar nav").get_by_role("link", name="Đơn vị").click()
    rows = page.locator("#organisation-rows tbody tr")
    expect(rows).to_have_count(41)
    page.evaluate("() => { window.__samePage = true; }")
    partial_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            partial_requests.append(request.url) if request.headers.get("hx-request") else None
        ),
    )

    search = page.get_by_role("searchbox")
    search.click()
    page.keyboard.type("nhân dân huyện")  # the district People's Committees, marks and all
    expect(rows).to_have_count(8)
    expect(page.locator("#organisation-rows")).to_contain_text("8 đơn vị")
    for name in rows.locator("td:nth-child(2)").all_inner_texts():
        assert name.startswith("Ủy ban nhân dân huyện"), name
    assert page.evaluate("() => window.__samePage") is True, "the page was reloaded"
    assert partial_requests and all("search=" in url for url in partial_requests)
    pushed = re.compile(r"/organisations\?search=nh%C3%A2n(\+|%20)d%C3%A2n(\+|%20)huy%E1%BB%87n&")
    expect(page).to_have_url(pushed)  # the address bar follows, so the view can be shared
    expect(search).to_have_value("nhân dân huyện")


def test_asset_owner_is_typed_with_suggestions(page: Page) -> None:
    """The owner filter is a field with suggestions fetched as one types, not a menu of every
    organisation; the name, once committed, narrows the rows without reloading the page."""
    sign_in(page, "phantich")
    expect_dashboard(page, "Tổng quan")
    page.locator(".topbar nav").get_by_role("link", name="Tài sản").click()
    page.evaluate("() => { window.__samePage = true; }")
    owner = page.get_by_role("combobox", name="Đơn vị", exact=True)
    owner.click()
    page.keyboard.type("tài chính")
    finance = "Sở Tài chính tỉnh Sơn Lâm"
    expect(page.locator(f"#organisation-choices option[value='{finance}']")).to_have_count(1)
    owner.fill(finance)  # what choosing the suggestion does to the field
    owner.press("Enter")
    owners = page.locator("#asset-rows tbody td:nth-child(2)")
    expect(owners.first).to_have_text(finance)
    assert set(owners.all_inner_texts()) == {finance}
    assert page.evaluate("() => window.__samePage") is True, "the page was reloaded"
    expect(page).to_have_url(re.compile(r"/assets\?.*organisation=S%E1%BB%9F"))


@pytest.fixture
def hostile_organisations(province: Database) -> dict[str, int]:
    """Organisations whose names are markup, written before the server starts."""
    with province.session() as session:
        created = [Organisation(name=name, kind_code="other") for name in HOSTILE_NAMES]
        session.add_all(created)
        session.flush()
        return {o.name: o.id for o in created}


def expect_no_script_ran(page: Page) -> None:
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.evaluate("() => window.__cspViolations") == []
    expect(page.locator("main img")).to_have_count(0)
    expect(page.locator("script:not([src])")).to_have_count(0)


def test_markup_in_names_is_shown_as_text(
    hostile_organisations: dict[str, int], page: Page
) -> None:
    sign_in(page, "quantri")
    expect_dashboard(page, "Tổng quan")
    page.goto("/organisations")
    for name in HOSTILE_NAMES:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect_no_script_ran(page)

    search = page.get_by_role("searchbox")
    search.click()
    page.keyboard.type("window xss")
    expect(page.locator("#organisation-rows tbody tr")).to_have_count(2)
    expect_no_script_ran(page)

    for name, identifier in hostile_organisations.items():
        page.get_by_role("link", name=name, exact=True).click()
        expect(page).to_have_url(f"/organisations/{identifier}")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        assert page.title() == f"{name} · Garrison"
        expect_no_script_ran(page)
        page.go_back()
        expect(page.locator("#organisation-rows tbody tr")).to_have_count(2)


def test_sign_out_ends_the_session(page: Page) -> None:
    sign_in(page, "quantri")
    expect_dashboard(page, "Tổng quan")
    session_cookies = [c for c in page.context.cookies() if c["name"] == "garrison_session"]
    assert len(session_cookies) == 1

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập")
    assert not [c for c in page.context.cookies() if c["name"] == "garrison_session"]
    page.goto("/organisations")
    expect(page).to_have_url("/login?next=/organisations")

    page.context.add_cookies(session_cookies)  # the old key is dead on the server too
    page.goto("/")
    expect(page).to_have_url("/login?next=/")


def test_import_with_a_bad_row_reports_row_and_column(
    page: Page, province: Database, tmp_path: Path
) -> None:
    upload = tmp_path / "dai-ip-syt.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Dải IP"
    sheet.append(["Đơn vị", "Dải IP", "Mô tả"])
    sheet.append(["SYT", "10.250.0.0/24", "Mạng nội bộ"])
    sheet.append(["SYT", "10.250.1.300/24", "Mạng máy chủ"])  # row 3: no such address
    sheet.append(["SYT", "10.250.2.0/24", "Mạng khách"])
    workbook.save(upload)

    sign_in(page, "quantri")
    expect_dashboard(page, "Tổng quan")
    page.locator(".topbar nav").get_by_role("link", name="Nhập dữ liệu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nhập dữ liệu danh mục")
    page.locator("input[type=file][name=file]").set_input_files(upload)
    page.locator("form[action='/import'] button[type=submit]").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Tệp dai-ip-syt.xlsx bị từ chối; không có dữ liệu nào được ghi."
    )
    problems = page.locator("table.problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.locator("td")).to_have_text(
        ["dai-ip-syt.xlsx", "Dải IP", "3", "Dải IP", re.compile(r"10\.250\.1\.300/24")]
    )
    expect(page.locator("table.problems thead th")).to_have_text(
        ["Tệp", "Trang tính", "Dòng", "Cột", "Lý do"]
    )
    with province.session() as session:
        written = session.scalar(
            select(func.count()).select_from(Network).where(Network.cidr.like("10.250.%"))
        )
    assert written == 0, "a rejected file writes nothing, not even its good rows"
