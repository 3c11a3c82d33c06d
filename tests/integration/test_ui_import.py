"""The import page: uploads of CSV and XLSX registry files, the per-row error report, and every
way an upload can be wrong — too big, wrong type, hostile names, no CSRF token."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from ui_pages import assert_refused_page, body_rows, statuses, stored_counts

from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.orgs.models import Asset, Organisation

from web_client import sign_in

pytestmark = pytest.mark.db
LIMIT = 256 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD: dict[str, list[list[Any]]] = {
    "Đơn vị": [
        ["Tên đơn vị", "Tên viết tắt", "Loại đơn vị", "Đơn vị cấp trên", "Ghi chú"],
        ["Trung tâm Dữ liệu tỉnh Sơn Lâm", "TTDL", "other", "SKHCN", "Trung tâm dữ liệu"],
        ["Ủy ban nhân dân xã Hòa Bình", "XAHB", "district", "", ""],
    ],
    "Dải IP": [
        ["Đơn vị", "Dải IP", "Mô tả"],
        ["TTDL", "203.0.113.5/28", "có bit máy: một cảnh báo"],
    ],
    "Tài sản": [
        ["Đơn vị", "Tên tài sản", "Loại tài sản", "Tên máy", "Hệ điều hành", "Cấp độ"],
        ["TTDL", "Máy chủ dữ liệu", "database", "db.ttdl.sonlam.gov.vn", "Ubuntu 22.04", 3],
        ["XAHB", "Cổng thông tin xã", "web server", "xahb.sonlam.gov.vn", "", 2],
    ],
}
BAD_CSV = (
    "Đơn vị,Tên tài sản,Cấp độ,Địa chỉ IP\n"
    "STC,Máy chủ A,9,203.0.113.7\n"
    "Không có đơn vị này,Máy chủ B,2,\n"
    "STC,Máy chủ C,3,999.1.1.1\n"
).encode()
ORGANISATIONS_CSV = "Tên đơn vị,Loại đơn vị\nPhòng Văn hóa xã Hòa Bình,other\n".encode()


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """A small upload limit, so that 'too big' is cheap to send."""
    return load_settings(data_dir=tmp_path / "data", language="vi", max_upload_bytes=LIMIT)


@pytest.fixture
def upload_folders() -> Iterator[None]:
    """Every temporary upload folder is gone when the request is done."""

    def folders() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("garrison-upload-*"))

    before = folders()
    yield
    assert folders() == before


def _xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(
    client: TestClient, csrf: str | None, name: str, content: bytes, media_type: str = "text/csv"
) -> Any:
    data = {"csrf_token": csrf} if csrf else {}
    return client.post("/import", data=data, files={"file": (name, content, media_type)})


def _counts(page: str) -> dict[str, list[str]]:
    """Table label → [created, updated, unchanged] from the result."""
    return {row[0]: row[1:] for row in body_rows(page)}


def test_import_page_for_registry_editors_only(client: TestClient, province: Database) -> None:
    seen = statuses(client, ["/import"])
    assert {user: by_path["/import"] for user, by_path in seen.items()} == {
        "quantri": 200,
        "phantich": 200,
        "truc.ban": 403,
        "syt": 403,
        "stc": 403,
        "nhamang": 403,
    }
    csrf = sign_in(client, "syt")
    assert_refused_page(client.get("/import"))
    before = stored_counts(province)
    assert _upload(client, csrf, "registry.csv", ORGANISATIONS_CSV).status_code == 403
    assert stored_counts(province) == before
    assert 'href="/import"' not in client.get("/").text
    sign_in(client, "phantich")
    form = client.get("/import").text
    assert 'enctype="multipart/form-data"' in form and 'name="csrf_token"' in form
    assert "Tối đa 0.25 MB." in form


def test_good_file_then_reimport_changes_nothing(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "phantich")
    workbook = _xlsx(GOOD)
    first = _upload(client, csrf, "danh-muc.xlsx", workbook, XLSX_TYPE)
    assert first.status_code == 200, first.text
    assert "Đã nhập tệp danh-muc.xlsx." in first.text
    assert _counts(first.text) == {
        "Đơn vị": ["2", "0", "0"],
        "Dải mạng": ["1", "0", "0"],
        "Tài sản": ["2", "0", "0"],
    }
    warnings = body_rows(first.text, table=1)
    assert [row[:3] for row in warnings] == [["Dải IP", "2", "Dải IP"]] and warnings[0][3]
    with province.session() as session:
        stored = session.scalar(select(Organisation).where(Organisation.short_name == "TTDL"))
        assert stored is not None and stored.notes == "Trung tâm dữ liệu"
        assert (
            session.scalar(
                select(func.count()).select_from(Asset).where(Asset.organisation_id == stored.id)
            )
            == 1
        )
        actors = set(
            session.scalars(
                select(AuditEvent.actor).where(
                    AuditEvent.entity == "organisations", AuditEvent.entity_id == str(stored.id)
                )
            )
        )
    assert actors == {"user:phantich"}, "the import is audited under the uploader's name"

    before = stored_counts(province)
    again = _upload(client, csrf, "danh-muc.xlsx", workbook, XLSX_TYPE)
    assert again.status_code == 200
    assert "Không có gì thay đổi" in again.text
    assert _counts(again.text) == {
        "Đơn vị": ["0", "0", "2"],
        "Dải mạng": ["0", "0", "1"],
        "Tài sản": ["0", "0", "2"],
    }
    assert stored_counts(province) == before


def test_bad_file_gets_a_row_report_and_writes_nothing(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "quantri")
    before = stored_counts(province)
    response = _upload(client, csrf, "tai-san.csv", BAD_CSV)
    assert response.status_code == 422
    assert "Tệp tai-san.csv bị từ chối; không có dữ liệu nào được ghi." in response.text
    report = body_rows(response.text)
    located = {(row[0], row[2], row[3]) for row in report}
    assert {
        ("tai-san.csv", "2", "Cấp độ"),
        ("tai-san.csv", "3", "Đơn vị"),
        ("tai-san.csv", "4", "Địa chỉ IP"),
    } <= located, report
    assert all(row[4] for row in report), "every problem says why"
    assert "upload.csv" not in response.text, "the name on disk is never shown"
    assert stored_counts(province) == before


def test_uploads_over_the_limit_are_refused(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "quantri")
    before = stored_counts(province)
    declared = _upload(client, csrf, "lon.csv", b"a" * (LIMIT * 2))
    assert declared.status_code == 413
    assert "Tệp lớn hơn giới hạn tải lên 0.25 MB." in declared.text
    just_over = _upload(client, csrf, "lon.csv", b"a" * (LIMIT + 1))
    assert just_over.status_code == 413

    boundary = "garrison-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="lon.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"a" * (LIMIT * 2)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    streamed = client.post(
        "/import",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert streamed.status_code == 413, "counted while streaming, without a Content-Length"
    assert stored_counts(province) == before
    assert load_settings().max_upload_bytes == 50 * 1024 * 1024


def test_other_types_are_refused(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "quantri")
    before = stored_counts(province)
    for name, content, media_type in [
        ("registry.txt", ORGANISATIONS_CSV, "text/plain"),
        ("logo.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("registry.csv", ORGANISATIONS_CSV, "text/html"),
        ("registry.xlsx", b"<html>not a workbook</html>", XLSX_TYPE),
        ("registry.exe", b"MZ", "application/x-msdownload"),
    ]:
        response = _upload(client, csrf, name, content, media_type)
        assert response.status_code == 415, name
        assert "Chỉ nhập được tệp CSV (.csv) và Excel (.xlsx)." in response.text
    assert stored_counts(province) == before


def test_not_a_file_upload(client: TestClient) -> None:
    csrf = sign_in(client, "quantri")
    plain = client.post("/import", data={"csrf_token": csrf})
    assert plain.status_code == 415
    empty = _upload(client, csrf, "", b"")
    assert empty.status_code == 422 and "Hãy chọn một tệp để tải lên." in empty.text


def test_hostile_file_names_are_only_shown_escaped(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "quantri")
    traversal = _upload(client, csrf, "../../etc/passwd.csv", ORGANISATIONS_CSV)
    assert traversal.status_code == 200
    assert "Đã nhập tệp ../../etc/passwd.csv." in traversal.text
    naive = Path(tempfile.gettempdir(), "garrison-upload-x", "../../etc/passwd.csv").resolve()
    assert not naive.exists(), "the client's name is never a path on disk"
    script = _upload(client, csrf, "<script>alert(1)</script>.csv", BAD_CSV)
    assert script.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in script.text
    assert "<script>alert(1)" not in script.text
    image = _upload(client, csrf, '"><img src=x onerror=alert(1)>.csv', ORGANISATIONS_CSV)
    assert image.status_code == 200
    assert "&gt;&lt;img src=x onerror=alert(1)&gt;.csv" in image.text  # '"' is sent as %22
    assert "<img src=x" not in image.text


def test_upload_needs_the_csrf_token(
    client: TestClient, province: Database, upload_folders: None
) -> None:
    csrf = sign_in(client, "quantri")
    before = stored_counts(province)
    missing = _upload(client, None, "registry.csv", ORGANISATIONS_CSV)
    assert missing.status_code == 403
    forged = _upload(client, "forged", "registry.csv", ORGANISATIONS_CSV)
    assert forged.status_code == 403
    assert stored_counts(province) == before
    by_header = client.post(
        "/import",
        files={"file": ("registry.csv", ORGANISATIONS_CSV, "text/csv")},
        headers={"X-CSRF-Token": csrf},
    )
    assert by_header.status_code == 200, "HTMX sends the token as a header"
