"""The threat-intelligence pages: indicator search and detail, sources, feed uploads and import
runs with their error report; who sees what; markup shown as text; downloads; languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from intel_samples import (
    AMBER_SOURCE,
    ESCAPED_SCRIPT,
    GREEN_SOURCE,
    SCRIPT,
    WARNINGLIST,
    IntelSamples,
    intel_settings,
    load_intel,
)
from sqlalchemy import func, select
from ui_pages import assert_refused_page, body_rows, downloads, statuses

from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.intel.models import ImportRun, Source

from web_client import sign_in

pytestmark = pytest.mark.db
TYPE, VALUE, FIRST, LAST, TLP, CONFIDENCE, MALWARE, SOURCES, LISTS = range(9)
SINKHOLE = "feeds/shadowserver/event4_sinkhole.csv"


@pytest.fixture
def web_settings(tmp_path: Path, shared_data: Path) -> Settings:
    return intel_settings(tmp_path, shared_data)


@pytest.fixture
def intel(province: Database, web_settings: Settings, tmp_path: Path) -> IntelSamples:
    return load_intel(province, web_settings, tmp_path)


def _values(page: str) -> list[str]:
    """The indicator values a list shows ('no indicator matches' is a one-cell row)."""
    return [row[VALUE] for row in body_rows(page) if len(row) > 1]


def _chart(page: str, name: str) -> dict[str, int]:
    """A chart's label → value, read from the data attributes app.js draws it from."""
    canvas = re.search(rf'<canvas (?:id|data-name)="{name}"[^>]*>', page)
    assert canvas, f"the page has the chart {name}"
    attributes = dict(re.findall(r"data-(labels|values)='([^']*)'", canvas[0]))
    return dict(
        zip(json.loads(attributes["labels"]), json.loads(attributes["values"]), strict=True)
    )


def test_search_by_defanged_value_and_by_an_address_inside_a_network(
    client: TestClient, intel: IntelSamples
) -> None:
    sign_in(client, "phantich")
    everything = client.get("/indicators")
    assert everything.status_code == 200
    assert "6 chỉ báo" in everything.text
    assert _chart(everything.text, "indicator-tlp") == {"TLP:GREEN": 4, "TLP:AMBER": 2}
    assert _chart(everything.text, "indicator-types") == {
        "Địa chỉ IPv4": 3,
        "Dải mạng IPv4": 1,
        "Tên miền": 2,
    }
    assert _values(client.get("/indicators?search=evil[.]example[.]vn").text) == ["evil.example.vn"]
    assert _values(client.get("/indicators?search=hxxp://evil[.]example[.]vn").text) == []
    assert _values(client.get("/indicators?search=103.97.126.200").text) == ["103.97.124.0/22"]
    assert set(_values(client.get("/indicators?search=EXAMPLE.vn").text)) == {
        "hidden.example.vn",
        "evil.example.vn",
    }
    domains = body_rows(client.get("/indicators?type=domain").text)
    assert {row[TYPE] for row in domains} == {"Tên miền"} and len(domains) == 2
    from_amber = client.get(f"/indicators?source={intel.amber_source}").text
    assert set(_values(from_amber)) == {"185.220.101.7", "hidden.example.vn"}
    assert {row[SOURCES] for row in body_rows(from_amber)} == {AMBER_SOURCE}


def test_list_rows_badges_warninglists_sorting_and_htmx_refresh(
    client: TestClient, intel: IntelSamples
) -> None:
    sign_in(client, "truc.ban")
    page = client.get("/indicators?search=192.0.2.10")
    [row] = body_rows(page.text)
    assert row[TYPE] == "Địa chỉ IPv4" and row[TLP] == "TLP:GREEN" and row[CONFIDENCE] == "50"
    assert WARNINGLIST in row[LISTS] and row[SOURCES] == GREEN_SOURCE
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", row[LAST])
    assert '<span class="tlp tlp-green">TLP:GREEN</span>' in page.text
    assert 'class="tlp tlp-amber">TLP:AMBER<' in client.get("/indicators").text

    hidden = _values(client.get("/indicators?hide_warninglisted=true").text)
    assert "192.0.2.10" not in hidden and len(hidden) == 5

    newest = client.get("/indicators")
    oldest = client.get("/indicators?sort=last_seen&descending=false")
    assert _values(oldest.text) == list(reversed(_values(newest.text)))
    assert "sort=last_seen&amp;descending=false" in newest.text, "the header turns the order"

    rows_only = client.get("/indicators?type=cidr4", headers={"HX-Request": "true"})
    assert "<html" not in rows_only.text and _values(rows_only.text) == ["103.97.124.0/22"]


def test_detail_shows_every_sighting_with_its_raw_row_escaped(
    client: TestClient, intel: IntelSamples
) -> None:
    sign_in(client, "phantich")
    page = client.get(f"/indicators/{intel.ids['45.77.10.20']}")
    assert page.status_code == 200
    [sighting] = body_rows(page.text)
    source, observed, last_seen, count, *_rest, line, raw = sighting
    assert source == GREEN_SOURCE and count == "1" and line == "1"
    assert observed == "" and last_seen, "a plain list gives no time of observation"
    assert raw.endswith(f"45.77.10.20 {SCRIPT}")
    assert "<script>alert" not in page.text
    assert f'<pre class="raw">45.77.10.20 {ESCAPED_SCRIPT}</pre>' in page.text
    assert client.get(f"/indicators/{intel.ids['192.0.2.10']}").text.count(WARNINGLIST) == 1
    assert client.get("/indicators/999999").status_code == 404
    for refused in ("/indicators/0", "/indicators/99999999999", "/indicators?search=a%00b",
                    "/indicators?source=99999999999", "/intel-runs/99999999999"):  # fmt: skip
        assert client.get(refused).status_code == 422, refused


def test_source_names_are_escaped_on_every_page(client: TestClient, intel: IntelSamples) -> None:
    sign_in(client, "quantri")
    for path in (
        "/indicators",
        f"/indicators/{intel.ids['evil.example.vn']}",
        "/sources",
        f"/sources/{intel.green_source}",
        f"/intel-runs/{intel.green_run}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
        assert ESCAPED_SCRIPT in page.text, path


def test_members_see_green_indicators_only_and_never_sources_or_runs(
    client: TestClient, province: Database, intel: IntelSamples
) -> None:
    paths = ["/indicators", "/sources", f"/sources/{intel.green_source}"]
    paths += [f"/intel-runs/{intel.green_run}", f"/indicators/{intel.ids['hidden.example.vn']}"]
    seen = statuses(client, paths)
    for coordinator in ("quantri", "phantich", "truc.ban"):
        assert set(seen.pop(coordinator).values()) == {200}, coordinator
    for member, by_path in seen.items():
        assert by_path == {
            "/indicators": 200,
            "/sources": 403,
            f"/sources/{intel.green_source}": 403,
            f"/intel-runs/{intel.green_run}": 403,
            f"/indicators/{intel.ids['hidden.example.vn']}": 404,
        }, member

    sign_in(client, "stc")
    page = client.get("/indicators")
    assert set(_values(page.text)) == {"45.77.10.20", "evil.example.vn", "103.97.124.0/22",
                                       "192.0.2.10"}  # fmt: skip
    assert {row[SOURCES] for row in body_rows(page.text)} == {""}
    assert 'href="/indicators"' in page.text and 'href="/sources"' not in page.text
    assert 'name="source"' not in page.text and "TLP:AMBER" not in page.text
    assert_refused_page(client.get("/sources"))
    assert client.get(f"/indicators?source={intel.green_source}").status_code == 403
    assert _values(client.get("/indicators?search=185.220.101.7").text) == []
    for table in downloads(client, "/indicators"):
        assert {row[VALUE] for row in table[1:]} == set(_values(page.text))

    detail = client.get(f"/indicators/{intel.ids['45.77.10.20']}")
    assert detail.status_code == 200 and "Danh sách xanh" not in detail.text
    [sighting] = body_rows(detail.text)
    assert SCRIPT not in " ".join(sighting) and "<pre" not in detail.text


def test_sources_list_add_form_and_refusals(
    client: TestClient, province: Database, intel: IntelSamples
) -> None:
    sign_in(client, "truc.ban")
    listed = client.get("/sources")
    rows = body_rows(listed.text)
    assert [row[0] for row in rows] == [GREEN_SOURCE, AMBER_SOURCE]
    assert rows[0][3] == "nhập thủ công" and rows[0][4] == "TLP:GREEN" and rows[0][5] == "C"
    assert rows[0][7].startswith("thành công") and "Mới 3" in rows[0][7]
    assert "Trong danh sách cảnh báo 1" in rows[0][7]
    assert 'action="/sources"' not in listed.text, "the duty officer may not add sources"

    csrf = sign_in(client, "phantich")
    form = client.get("/sources").text
    assert 'action="/sources"' in form and 'name="csrf_token"' in form
    fields = {
        "csrf_token": csrf,
        "name": "Shadowserver Sơn Lâm",
        "format": "shadowserver",
        "url": "https://reports.example.org/sonlam",
        "schedule": "1s",
        "default_tlp": "amber+strict",
        "reliability": "B",
        "default_confidence": "70",
        "default_expiry_days": "",
        "auth_header": "X-Api-Key",
        "auth_secret": "bi-mat-khong-hien",
    }
    refused = client.post("/sources", data=fields)
    assert refused.status_code == 422
    assert "Chưa thêm được nguồn tin: schedule &#39;1s&#39;" in refused.text
    assert (
        'value="Shadowserver Sơn Lâm"' in refused.text and "bi-mat-khong-hien" not in refused.text
    )
    assert (
        client.post("/sources", data={**fields, "schedule": "6h", "csrf_token": ""}).status_code
        == 403
    )
    added = client.post("/sources", data={**fields, "schedule": "6h"}, follow_redirects=False)
    assert added.status_code == 303
    page = client.get(added.headers["location"]).text
    assert "Shadowserver Sơn Lâm" in page and "6h" in page and "TLP:AMBER+STRICT" in page
    assert "B: thường tin cậy" in page and "bi-mat-khong-hien" not in page
    again = client.post("/sources", data={**fields, "schedule": "6h"})
    assert again.status_code == 422 and "already exists" in again.text
    with province.session() as session:
        assert session.scalar(select(func.count()).select_from(Source)) == 3


def test_feed_upload_shows_the_run_with_its_per_row_error_report(
    client: TestClient, province: Database, intel: IntelSamples, shared_data: Path
) -> None:
    sinkhole = (shared_data / SINKHOLE).read_bytes()
    csrf = sign_in(client, "truc.ban")
    upload = {"file": ("event4_sinkhole.csv", sinkhole, "text/csv")}
    refused = client.post(f"/sources/{intel.green_source}/import", data={"csrf_token": csrf},
                          files=upload)  # fmt: skip
    assert refused.status_code == 403

    csrf = sign_in(client, "phantich")
    source_page = client.get(f"/sources/{intel.green_source}").text
    assert 'enctype="multipart/form-data"' in source_page and '<option value="shadowserver">' in (
        source_page
    )
    done = client.post(
        f"/sources/{intel.green_source}/import",
        data={"csrf_token": csrf, "format": "auto"},
        files=upload,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/intel-runs/")
    run = client.get(done.headers["location"]).text
    assert "thành công" in run and "event4_sinkhole.csv" in run and "shadowserver" in run
    tiles = dict(re.findall(r'data-count="(\w+)"><strong>(\d+)</strong>', run))
    assert tiles == {"new_count": "3", "updated_count": "0", "unchanged_count": "0",
                     "invalid_count": "1", "excluded_count": "0"}  # fmt: skip
    assert _chart(run, "chart-run-counts")["Mới"] == 3
    [problem] = body_rows(run)
    assert problem[:4] == ["event4_sinkhole.csv", "", "4", "dst_ip"]
    assert "148.81.111.11.12" in problem[4]
    assert "190.113.1.2" in _values(client.get("/indicators?search=190.113.1.2").text)

    runs = body_rows(client.get(f"/sources/{intel.green_source}").text, table=0)
    assert [row[1] for row in runs] == ["thành công", "thành công"]

    unreadable = client.post(
        f"/sources/{intel.green_source}/import",
        data={"csrf_token": csrf, "format": "stix2"},
        files={"file": ("notes.txt", b"not a bundle\n", "text/plain")},
        follow_redirects=False,
    )
    failed = client.get(unreadable.headers["location"]).text
    assert "thất bại" in failed and "Nhập thất bại; không có gì bị thay đổi." in failed
    wrong_type = client.post(
        f"/sources/{intel.green_source}/import",
        data={"csrf_token": csrf},
        files={"file": ("tool.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert wrong_type.status_code == 415 and "Chỉ nhập được tệp CSV, TSV" in wrong_type.text
    unknown = client.post(
        f"/sources/{intel.green_source}/import",
        data={"csrf_token": csrf, "format": "no-such-format"},
        files=upload,
    )
    assert unknown.status_code == 422
    missing = client.post("/sources/999999/import", data={"csrf_token": csrf}, files=upload)
    assert missing.status_code == 404
    with province.session() as session:
        assert session.scalar(select(func.count()).select_from(ImportRun)) == 4


def test_downloads_hold_every_matching_indicator(client: TestClient, intel: IntelSamples) -> None:
    sign_in(client, "phantich")
    shown = _values(client.get("/indicators?hide_warninglisted=true").text)
    for table in downloads(client, "/indicators", "hide_warninglisted=true"):
        header, *rows = table
        assert header[:4] == ["Loại", "Giá trị", "Thấy lần đầu (Asia/Ho_Chi_Minh)",
                              "Thấy lần cuối (Asia/Ho_Chi_Minh)"]  # fmt: skip
        assert [row[VALUE] for row in rows] == shown
        assert {row[TLP] for row in rows} == {"TLP:GREEN", "TLP:AMBER"}
        [first] = [row for row in rows if row[VALUE] == "45.77.10.20"]
        assert first[SOURCES] == GREEN_SOURCE
    page = client.get("/indicators?type=domain")
    assert 'href="/indicators.csv?type=domain&amp;' in page.text


def test_vietnamese_by_default_english_on_request(client: TestClient, intel: IntelSamples) -> None:
    sign_in(client, "phantich")
    page = client.get("/indicators").text
    assert "<h1>Chỉ báo</h1>" in page and 'href="/sources">Nguồn tin</a>' in page
    assert "Thấy lần cuối" in page and "Danh sách cảnh báo" in page
    run = client.get(f"/intel-runs/{intel.green_run}").text
    assert "Báo cáo lỗi" in run and "Không phát hiện vấn đề nào." in run
    client.get("/language/en?next=/indicators", follow_redirects=False)
    page = client.get("/indicators").text
    assert "<h1>Indicators</h1>" in page and 'href="/sources">Sources</a>' in page
    assert "Last seen" in page and "IPv4 address" in page and "Chỉ báo" not in page
    sources = client.get("/sources").text
    assert "Add a source" in sources and "by hand" in sources
