"""Downloads of the organisation list: the page's filters and order, tenancy, languages, and
cells that must never become spreadsheet formulas."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from ui_pages import body_rows, csv_rows, downloads

from garrison.core.db import Database
from garrison.orgs.models import Organisation

from web_client import sign_in

pytestmark = pytest.mark.db
FORMULAS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1,1)")


def test_downloads_follow_the_filters_and_sort(client: TestClient) -> None:
    sign_in(client, "truc.ban")
    query = "kind=district&search=huy%E1%BB%87n&sort=name&descending=true"
    shown = body_rows(client.get(f"/organisations?{query}").text)
    assert len(shown) == 8
    for header, *rows in downloads(client, "/organisations", query):
        assert header == ["Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Đơn vị cấp trên", "Ghi chú"]
        assert [row[0] for row in rows] == [row[1] for row in shown]
        assert {row[2] for row in rows} == {"district"}
    client.get("/language/en?next=/", follow_redirects=False)
    header = downloads(client, "/organisations", query)[0][0]
    assert header == ["name", "short_name", "kind", "parent", "notes"]
    listing = client.get("/organisations")
    assert "/organisations.csv?" in listing.text and "/organisations.xlsx?" in listing.text


def test_members_download_only_their_organisations(client: TestClient) -> None:
    sign_in(client, "syt")
    for _header, *rows in downloads(client, "/organisations"):
        assert sorted(row[1] for row in rows) == ["BVDK", "CDC", "SYT"]


def test_cells_that_look_like_formulas_stay_text(client: TestClient, province: Database) -> None:
    with province.session() as session:
        session.add_all(
            Organisation(name=f"{text} org", kind_code="other", notes=text) for text in FORMULAS
        )
    sign_in(client, "quantri")
    rows = csv_rows(client.get("/organisations.csv?kind=other"))
    by_note = {row[4] for row in rows[1:] if row[4]}
    assert {f"'{text}" for text in FORMULAS} <= by_note, "CSV cells are quoted as text"
    workbook = load_workbook(io.BytesIO(client.get("/organisations.xlsx?kind=other").content))
    cells = [cell for row in workbook.worksheets[0].iter_rows(min_row=2) for cell in row]
    notes = {cell.value for cell in cells if cell.column == 5 and cell.value}
    assert set(FORMULAS) <= notes, "XLSX keeps the text as it is"
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)


@pytest.mark.parametrize("sort", ["name", "short_name", "kind"])
@pytest.mark.parametrize("descending", [False, True])
def test_database_page_matches_the_whole_list_sorted(province, sort: str, descending: bool) -> None:
    """The fast path (sorted and cut in SQL) shows exactly what sorting everything would."""
    from garrison.orgs.queries import list_organisations, page_of_organisations
    from garrison.web.ui.listing import ListQuery, sorted_by

    with province.session() as session:
        for kind in (None, "department"):
            wanted = sorted_by(
                list_organisations(session, kind=kind), ListQuery(sort=sort, descending=descending)
            )
            page, total, more = page_of_organisations(
                session, kind=kind, sort=sort, descending=descending, offset=10, limit=10
            )
            assert (total, more) == (len(wanted), False)
            assert page == wanted[10:20]
