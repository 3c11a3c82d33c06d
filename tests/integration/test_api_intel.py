"""/api/v1/indicators and /api/v1/intel: search, cursor pages, sightings, tenancy, sources,
their runs and feed uploads, and problem details for everything refused."""

from __future__ import annotations

from pathlib import Path

import api_support as api
import pytest
from fastapi.testclient import TestClient
from intel_samples import (
    AMBER_SOURCE,
    GREEN_LINES,
    GREEN_SOURCE,
    SCRIPT,
    WARNINGLIST,
    IntelSamples,
    intel_settings,
    load_intel,
)

from garrison.core.db import Database
from garrison.core.settings import Settings

pytestmark = pytest.mark.db
SINKHOLE = "feeds/shadowserver/event4_sinkhole.csv"


@pytest.fixture
def web_settings(tmp_path: Path, shared_data: Path) -> Settings:
    return intel_settings(tmp_path, shared_data)


@pytest.fixture
def intel(province: Database, web_settings: Settings, tmp_path: Path) -> IntelSamples:
    return load_intel(province, web_settings, tmp_path)


def _values(items: list[dict[str, object]]) -> set[object]:
    return {item["value"] for item in items}


def test_search_filters_and_cursor_pages(
    client: TestClient, province: Database, intel: IntelSamples
) -> None:
    api.act_as(client, province, "truc.ban")
    every = api.all_pages(client, "/api/v1/indicators", limit=2)
    assert len(every) == 6 and [item["id"] for item in every] == sorted(
        item["id"] for item in every
    )
    [listed] = [item for item in every if item["value"] == "192.0.2.10"]
    assert listed["warninglists"] == [WARNINGLIST] and listed["sources"] == [GREEN_SOURCE]
    assert listed["type"] == "ipv4" and listed["tlp"] == "green" and listed["confidence"] == 50

    def search(**params: object) -> set[object]:
        return _values(api.all_pages(client, "/api/v1/indicators", **params))

    assert search(q="evil[.]example[.]vn") == {"evil.example.vn"}
    assert search(q="103.97.127.1") == {"103.97.124.0/22"}
    assert search(type="domain") == {"evil.example.vn", "hidden.example.vn"}
    assert search(source=intel.amber_source) == {"185.220.101.7", "hidden.example.vn"}
    assert "192.0.2.10" not in search(include_warninglisted=False)
    assert search(q="%") == set() and search(q=api.SQL_META[0]) == set()
    api.assert_problem(client.get("/api/v1/indicators?type=sha512"), 422)
    api.assert_problem(client.get("/api/v1/indicators?cursor=bm9wZQ"), 422)


def test_indicator_with_its_sightings(
    client: TestClient, province: Database, intel: IntelSamples
) -> None:
    api.act_as(client, province, "phantich")
    response = client.get(f"/api/v1/indicators/{intel.ids['45.77.10.20']}")
    assert response.status_code == 200
    indicator = response.json()
    [sighting] = indicator["sightings"]
    assert sighting["source"] == GREEN_SOURCE and sighting["raw"] == GREEN_LINES[0]
    assert sighting["line"] == 1 and sighting["count"] == 1 and SCRIPT in sighting["raw"]
    api.assert_problem(client.get("/api/v1/indicators/999999"), 404)
    api.assert_problem(client.get("/api/v1/indicators/0"), 422)


@pytest.mark.parametrize("member", ["syt", "stc", "nhamang"])
def test_members_read_green_indicators_without_sources_or_raw_rows(
    client: TestClient, province: Database, intel: IntelSamples, member: str
) -> None:
    api.act_as(client, province, member, "read")
    assert _values(api.all_pages(client, "/api/v1/indicators")) == {
        "45.77.10.20",
        "evil.example.vn",
        "103.97.124.0/22",
        "192.0.2.10",
    }
    assert all(item["sources"] == [] for item in api.all_pages(client, "/api/v1/indicators"))
    green = client.get(f"/api/v1/indicators/{intel.ids['45.77.10.20']}").json()
    assert green["sightings"] and all(
        s["source"] is None and s["raw"] is None for s in green["sightings"]
    )
    api.assert_problem(client.get(f"/api/v1/indicators/{intel.ids['185.220.101.7']}"), 404)
    api.assert_problem(client.get(f"/api/v1/indicators?source={intel.green_source}"), 403)
    for path in (
        "/api/v1/intel/sources",
        f"/api/v1/intel/sources/{intel.green_source}/runs",
        f"/api/v1/intel/runs/{intel.green_run}",
    ):
        api.assert_problem(client.get(path), 403)


def test_sources_and_runs(client: TestClient, province: Database, intel: IntelSamples) -> None:
    api.act_as(client, province, "truc.ban")
    sources = {s["name"]: s for s in api.all_pages(client, "/api/v1/intel/sources")}
    assert set(sources) == {GREEN_SOURCE, AMBER_SOURCE}
    assert (
        sources[AMBER_SOURCE]["default_tlp"] == "amber"
        and "auth_secret" not in sources[AMBER_SOURCE]
    )
    [run] = api.all_pages(client, f"/api/v1/intel/sources/{intel.green_source}/runs")
    assert run["id"] == intel.green_run and run["status"] == "succeeded"
    assert (run["new_count"], run["excluded_count"], run["problems"]) == (3, 1, [])
    assert client.get(f"/api/v1/intel/runs/{intel.green_run}").json() == run
    api.assert_problem(client.get("/api/v1/intel/runs/999999"), 404)
    api.assert_problem(client.get("/api/v1/intel/sources/999999/runs"), 404)
    refused = client.post("/api/v1/intel/sources", json={"name": "Nguồn mới"})
    api.assert_problem(refused, 403)


def test_adding_a_source(client: TestClient, province: Database, intel: IntelSamples) -> None:
    api.act_as(client, province, "phantich")
    body = {
        "name": "  Team Cymru   CAP ",
        "format": "cymru-cap",
        "url": "https://cap.example.org/report.txt",
        "schedule": "1d",
        "default_tlp": "TLP:AMBER+STRICT",
        "reliability": "b",
        "auth_header": "Authorization",
        "auth_secret": "Bearer bi-mat",
    }
    created = client.post("/api/v1/intel/sources", json=body)
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["name"] == "Team Cymru CAP" and source["pull_interval_minutes"] == 1440
    assert source["default_tlp"] == "amber+strict" and source["reliability"] == "B"
    assert "auth_secret" not in source and "bi-mat" not in created.text
    for change, field in (
        ({"schedule": "1s"}, "schedule"),
        ({"url": "ftp://cap.example.org/"}, "url"),
        ({"default_tlp": "purple"}, "default_tlp"),
        ({"format": "no-such-format"}, "format"),
        ({"auth_secret": None}, "auth_header"),
        ({"name": "Team Cymru CAP"}, "name"),
    ):
        problem = api.assert_problem(
            client.post("/api/v1/intel/sources", json={**body, "name": "Khác", **change}), 422
        )
        assert problem["errors"][0]["location"] == ["body", field], problem
    api.assert_problem(client.post("/api/v1/intel/sources", json={**body, "extra": 1}), 422)
    api.assert_problem(client.post("/api/v1/intel/sources", json={**body, "name": "a\x00"}), 422)
    read_only = api.act_as(client, province, "phantich", "read")
    api.assert_problem(read_only.post("/api/v1/intel/sources", json={"name": "Chỉ đọc"}), 403)


def test_feed_upload_returns_the_run_with_its_error_report(
    client: TestClient, province: Database, intel: IntelSamples, shared_data: Path
) -> None:
    api.act_as(client, province, "phantich")
    sinkhole = {"file": ("event4_sinkhole.csv", (shared_data / SINKHOLE).read_bytes(), "text/csv")}
    path = f"/api/v1/intel/sources/{intel.amber_source}/imports"
    response = client.post(path, files=sinkhole)
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "succeeded" and run["format"] == "shadowserver"
    assert (run["new_count"], run["invalid_count"]) == (3, 1)
    [problem] = run["problems"]
    assert problem == {
        "file": "event4_sinkhole.csv",
        "sheet": None,
        "row": 4,
        "column": "dst_ip",
        "reason": problem["reason"],
    }
    assert client.get(f"/api/v1/intel/runs/{run['id']}").json() == run
    again = client.post(f"{path}?format=shadowserver", files=sinkhole).json()
    assert (again["new_count"], again["unchanged_count"]) == (0, 3)
    failed = client.post(
        f"{path}?format=stix2", files={"file": ("notes.txt", b"not json\n", "text/plain")}
    )
    assert failed.status_code == 201 and failed.json()["status"] == "failed"
    assert failed.json()["error"]
    api.assert_problem(client.post(f"{path}?format=nope", files=sinkhole), 422)
    api.assert_problem(
        client.post(path, files={"file": ("x.exe", b"MZ", "application/octet-stream")}), 415
    )
    api.assert_problem(client.post(path, data={"format": "auto"}), 415)
    api.assert_problem(client.post("/api/v1/intel/sources/999999/imports", files=sinkhole), 404)
    api.act_as(client, province, "truc.ban")
    api.assert_problem(client.post(path, files=sinkhole), 403)
