"""Reading what the web pages return, as a person or a spreadsheet program would: table rows of
a page, rows of a CSV or XLSX download, and who may open which page."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from garrison.auth.models import Membership, User
from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)

from web_client import sign_in

DEMO_USERS = ("quantri", "phantich", "truc.ban", "syt", "stc", "nhamang")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STORED_TABLES = (
    Organisation,
    Contact,
    Network,
    Domain,
    Asset,
    AssetAddress,
    Component,
    User,
    Membership,
    AuditEvent,
)


class _BodyRows(HTMLParser):
    """The text of every cell of every <tbody> row, table by table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self.tables.append([])
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1].append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def body_rows(html: str, table: int = 0) -> list[list[str]]:
    """The rows of one table of a page, each as its cells' text."""
    parser = _BodyRows()
    parser.feed(html)
    return parser.tables[table]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"] == CSV_TYPE
    assert response.content.startswith(b"\xef\xbb\xbf"), "CSV downloads carry a BOM"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_rows(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"] == XLSX_TYPE
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = []
    for cells in sheet.iter_rows():
        assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
        rows.append(["" if cell.value is None else str(cell.value) for cell in cells])
    return rows


def downloads(client: TestClient, path: str, query: str = "") -> list[list[list[str]]]:
    """The CSV and the XLSX download of one list, each as rows (header first); they agree."""
    suffix = f"?{query}" if query else ""
    as_csv = csv_rows(client.get(f"{path}.csv{suffix}"))
    as_xlsx = xlsx_rows(client.get(f"{path}.xlsx{suffix}"))
    assert as_csv == as_xlsx
    return [as_csv, as_xlsx]


def statuses(client: TestClient, paths: list[str]) -> dict[str, dict[str, int]]:
    """user → path → the status a GET gets, signing in as each demo user in turn."""
    seen = {}
    for username in DEMO_USERS:
        sign_in(client, username)
        seen[username] = {
            path: client.get(path, follow_redirects=False).status_code for path in paths
        }
    return seen


def assert_refused_page(response: httpx.Response) -> None:
    """The 403 error page, in Vietnamese, with no data table."""
    assert response.status_code == 403
    assert "403" in response.text and "Không có quyền truy cập" in response.text
    assert "<table" not in response.text


def stored_counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in STORED_TABLES
        }


def organisation_id(database: Database, short_name: str) -> int:
    with database.session() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.short_name == short_name))
        assert found is not None
        return found
