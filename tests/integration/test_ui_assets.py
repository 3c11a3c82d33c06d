"""The asset list page: search, filters, sorting, pages, HTMX refresh, tenancy and downloads."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from ui_pages import body_rows, downloads, organisation_id, statuses

from garrison.core.db import Database
from garrison.orgs.models import Asset, AssetAddress, Organisation

from web_client import sign_in

pytestmark = pytest.mark.db
NAME, OWNER, KIND, ADDRESSES, HOSTS, SYSTEM, LEVEL, INTERNET = range(8)


def _count(database: Database, *conditions: object) -> int:
    with database.session() as session:
        query = select(func.count()).select_from(Asset).where(*conditions)
        return session.scalar(query) or 0


def test_every_role_opens_the_asset_page(client: TestClient) -> None:
    seen = statuses(client, ["/assets", "/assets.csv", "/assets.xlsx"])
    assert all(code == 200 for by_path in seen.values() for code in by_path.values()), seen
    page = client.get("/assets")
    assert 'href="/assets"' in page.text, "the navigation links to the asset page"


def test_filters_sort_and_pages(client: TestClient, province: Database) -> None:
    sign_in(client, "phantich")
    total = _count(province)
    page = client.get("/assets")
    assert page.status_code == 200
    assert f"{total} tài sản" in page.text and f"Trang 1 / {-(-total // 50)}" in page.text
    first = body_rows(page.text)
    assert len(first) == 50
    second = body_rows(client.get("/assets?page=2").text)
    assert len(second) == 50 and not {r[NAME] + r[OWNER] for r in first} & {
        r[NAME] + r[OWNER] for r in second
    }

    level4 = body_rows(client.get("/assets?level=4").text)
    assert len(level4) == _count(province, Asset.security_level == 4)
    assert {row[LEVEL] for row in level4} == {"4"}
    unrated = client.get("/assets?level=none")
    assert f"{_count(province, Asset.security_level.is_(None))} tài sản" in unrated.text

    facing = body_rows(client.get("/assets?internet=yes&search=portal").text)
    assert facing and all(row[INTERNET] == "✓" and "portal" in row[HOSTS] for row in facing)
    inside = client.get("/assets?internet=no")
    assert f"{_count(province, Asset.internet_facing.is_(False))} tài sản" in inside.text

    stc = organisation_id(province, "STC")
    owned = client.get(f"/assets?organisation={stc}")
    rows = body_rows(owned.text)
    assert rows and {row[OWNER] for row in rows} == {"Sở Tài chính tỉnh Sơn Lâm"}
    assert len(rows) == _count(province, Asset.organisation_id == stc)
    assert f'href="/organisations/{stc}"' in owned.text, "owners link to their page"

    by_name = body_rows(client.get(f"/assets?organisation={stc}&sort=name&descending=true").text)
    names = [row[NAME] for row in by_name]
    assert names == sorted(names, key=str.casefold, reverse=True)

    with province.session() as session:
        address, asset_name = session.execute(
            select(AssetAddress.address, Asset.name).join(AssetAddress.asset).limit(1)
        ).one()
    found = body_rows(client.get("/assets", params={"search": address}).text)
    assert found and all(address in row[ADDRESSES] for row in found)
    assert asset_name in {row[NAME] for row in found}
    assert client.get("/assets?level=9").status_code == 422


def test_organisation_filter_is_typed_with_suggestions(
    client: TestClient, province: Database
) -> None:
    """No menu of every organisation: the field takes an id, a name or a short name, and an
    HTMX endpoint suggests names as they are typed, within the viewer's tenancy."""
    sign_in(client, "phantich")
    finance = "Sở Tài chính tỉnh Sơn Lâm"
    by_id = body_rows(client.get(f"/assets?organisation={organisation_id(province, 'STC')}").text)
    assert by_id
    for reference in ("STC", "stc", finance):
        page = client.get("/assets", params={"organisation": reference})
        assert body_rows(page.text) == by_id
        assert f'name="organisation" value="{finance}"' in page.text
        assert (
            'list="organisation-choices"' in page.text
            and '<select name="organisation"' not in page.text
        )
    assert client.get("/assets", params={"organisation": "Sở không có"}).status_code == 404
    typed = client.get("/assets?organisation=S%E1%BB%9F+kh", headers={"HX-Request": "true"})
    assert typed.status_code == 200, "a refresh says so in place of the rows"
    assert body_rows(typed.text) == [["Không có đơn vị nào tên là “Sở kh”."]]
    suggested = client.get("/organisations/choices", params={"organisation": "tài chính"})
    assert suggested.status_code == 200 and "<html" not in suggested.text
    assert f'<option value="{finance}">STC</option>' in suggested.text
    assert "<option" not in client.get("/organisations/choices").text
    sign_in(client, "syt")
    mine = client.get("/organisations/choices", params={"organisation": "Sở"}).text
    assert "Sở Y tế tỉnh Sơn Lâm" in mine and "Tài chính" not in mine


def test_long_lists_count_only_so_far_past_the_page(
    client: TestClient, province: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting stops COUNT_AHEAD rows past the page ("100+"); the last pages count exactly."""
    from garrison.orgs import queries

    monkeypatch.setattr(queries, "COUNT_AHEAD", 100)
    sign_in(client, "phantich")
    total = _count(province)
    assert total > 150
    first = client.get("/assets").text
    assert "100+ tài sản" in first and "Trang 1 / 2+" in first and "page=2" in first
    last_page = -(-total // 50)
    last = client.get(f"/assets?page={last_page}").text
    assert f"{total} tài sản" in last and f"Trang {last_page} / {last_page}<" in last


def test_search_refreshes_only_the_rows_for_htmx(client: TestClient) -> None:
    sign_in(client, "quantri")
    partial = client.get("/assets?search=tuong+lua", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and "<tbody>" in partial.text
    rows = body_rows(partial.text)
    assert rows and all("Tường lửa" in row[NAME] for row in rows), "marks do not matter"
    assert "/assets.csv?search=tuong+lua" in partial.text, "downloads follow the filters"


def test_members_see_only_their_organisations_assets(
    client: TestClient, province: Database
) -> None:
    health = {
        "Sở Y tế tỉnh Sơn Lâm",
        "Bệnh viện Đa khoa tỉnh Sơn Lâm",
        "Trung tâm Kiểm soát bệnh tật tỉnh Sơn Lâm",
    }
    sign_in(client, "syt")
    rows = body_rows(client.get("/assets").text)
    assert rows and {row[OWNER] for row in rows} <= health
    with province.session() as session:
        expected = session.scalar(
            select(func.count())
            .select_from(Asset)
            .join(Asset.organisation)
            .where(Organisation.name.in_(health))
        )
    assert len(rows) == expected
    for table in downloads(client, "/assets"):
        assert len(table) - 1 == expected and {row[0] for row in table[1:]} <= health
    stc = organisation_id(province, "STC")
    assert client.get(f"/assets?organisation={stc}").status_code == 404
    assert "Sở Tài chính" not in client.get("/assets?search=portal").text


def test_downloads_hold_every_filtered_row_in_page_order(
    client: TestClient, province: Database
) -> None:
    sign_in(client, "phantich")
    query = "level=3&internet=yes&sort=name&descending=true"
    shown = body_rows(client.get(f"/assets?{query}").text)
    expected = _count(province, Asset.security_level == 3, Asset.internet_facing.is_(True))
    assert expected > 0
    for table in downloads(client, "/assets", query + "&page=2"):
        header, *rows = table
        assert header[:3] == ["Đơn vị", "Tên tài sản", "Loại tài sản"]
        assert len(rows) == expected, "every page of results, not only the visible one"
        assert [(r[0], r[1]) for r in rows[: len(shown)]] == [(r[OWNER], r[NAME]) for r in shown]
        assert {r[6] for r in rows} == {"3"}
    response = client.get(f"/assets.csv?{query}")
    assert re.fullmatch(
        r'attachment; filename="garrison-assets-\d{8}\.csv"',
        response.headers["content-disposition"],
    )
    client.get("/language/en?next=/assets", follow_redirects=False)
    header = downloads(client, "/assets", query)[0][0]
    assert header[:3] == ["organisation", "name", "kind"]
    assert "Security level" in client.get("/assets").text


@pytest.mark.parametrize(
    "sort",
    ["organisation", "name", "kind", "operating_system", "security_level", "internet_facing"],
)
@pytest.mark.parametrize("descending", [False, True])
def test_database_page_matches_the_whole_list_sorted(province, sort: str, descending: bool) -> None:
    """The fast path (sorted and cut in SQL) shows exactly what sorting everything would."""
    from garrison.orgs.queries import AssetFilter, list_assets, page_of_assets
    from garrison.web.ui.listing import ListQuery, sorted_by

    class Query(ListQuery):
        pass

    with province.session() as session:
        everything = sorted_by(list_assets(session), Query(sort=sort, descending=descending))
        for where, keep in [
            (AssetFilter(), lambda a: True),
            (AssetFilter(security_level="none"), lambda a: a.security_level is None),
            (AssetFilter(internet_facing=True), lambda a: a.internet_facing),
        ]:
            wanted = [a for a in everything if keep(a)]
            page, total, more = page_of_assets(
                session, where, sort=sort, descending=descending, offset=50, limit=50
            )
            assert (total, more) == (len(wanted), False)
            assert [a.id for a in page] == [a.id for a in wanted[50:100]]
