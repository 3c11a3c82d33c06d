"""The command line, run in-process against real databases: output, JSON and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from garrison.cli.main import run


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@pytest.fixture
def garrison(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    """Run `garrison ARGS…` on the test database; returns exit code and captured output."""
    monkeypatch.setenv("GARRISON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Outcome:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["garrison", "--database-url", database_url, *args])
        try:
            run()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


ORGANISATIONS_CSV = """DANH SÁCH ĐƠN VỊ,,,
Tên đơn vị,Tên viết tắt,Loại đơn vị,Đơn vị cấp trên
Sở Khoa học và Công nghệ,SKHCN,coordinator,
Sở Y tế,SYT,department,
Bệnh viện Đa khoa tỉnh,BVDK,department,SYT
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_list_show_and_reimport(garrison, tmp_path: Path) -> None:
    source = _write(tmp_path / "don-vi.csv", ORGANISATIONS_CSV)
    first = garrison("orgs", "import", str(source), "--json")
    assert first.code == 0, first.err
    assert first.json()["counts"]["organisations"] == {"created": 3, "updated": 0, "unchanged": 0}
    again = garrison("orgs", "import", str(source))
    assert again.code == 0 and "nothing changed" in again.out
    listed = garrison("orgs", "list", "--json").json()
    assert [o["short_name"] for o in listed] == ["BVDK", "SKHCN", "SYT"]
    assert listed[0]["parent"] == "Sở Y tế"
    shown = garrison("orgs", "show", "syt", "--json").json()
    assert shown["name"] == "Sở Y tế" and shown["networks"] == []
    table = garrison("orgs", "list", "--search", "y te")
    assert "Sở Y tế" in table.out and "SKHCN" not in table.out


def test_bad_file_exits_1_with_located_error_and_writes_nothing(garrison, tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.csv", ORGANISATIONS_CSV.replace("department,SYT", "ministry,SYT"))
    outcome = garrison("orgs", "import", str(bad))
    assert outcome.code == 1
    assert "bad.csv, row 5, column 'Loại đơn vị'" in outcome.err
    assert "'ministry' is not an organisation kind" in outcome.err
    assert garrison("orgs", "list", "--json").json() == []


def test_usage_errors_exit_2(garrison) -> None:
    assert garrison("orgs", "frobnicate").code == 2
    assert garrison("assets", "list", "--level", "9").code == 2


def test_unknown_organisation_exits_1(garrison) -> None:
    outcome = garrison("orgs", "show", "Nowhere")
    assert outcome.code == 1 and "no organisation named 'Nowhere'" in outcome.err


def test_demo_then_listings_and_export_round_trip(garrison, tmp_path: Path) -> None:
    summary = garrison("demo", "--json")
    assert summary.code == 0, summary.err
    counts = summary.json()
    assert counts["organisations"] >= 35 and counts["assets"] >= 280
    internet = garrison("assets", "list", "--internet-facing", "--json").json()
    assert internet and all(a["internet_facing"] for a in internet)
    level4 = garrison("assets", "list", "--level", "4", "--json").json()
    assert all(a["security_level"] == 4 for a in level4)
    export = tmp_path / "registry.xlsx"
    assert garrison("orgs", "export", str(export)).code == 0
    reimport = garrison("orgs", "import", str(export), "--json").json()
    assert all(c["created"] == 0 and c["updated"] == 0 for c in reimport["counts"].values())
    assert sum(c["unchanged"] for c in reimport["counts"].values()) > 300


def test_installed_entry_point_runs_as_a_program(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "garrison", "--data-dir", str(tmp_path), "init"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "garrison.sqlite3").is_file()


def test_users_add_list_token_and_revoke(garrison, database_url: str) -> None:
    from garrison.auth.tokens import principal_for_token
    from garrison.core.db import Database, create_database_engine

    assert garrison("demo").code == 0
    added = garrison(
        "users",
        "add",
        "lan",
        "--org",
        "SKHCN",
        "--role",
        "administrator",
        "--password",
        "mat-khau-dai-du",
    )
    assert added.code == 0, added.err
    assert garrison("users", "add", "lan", "--org", "SYT", "--role", "member_staff").code == 0
    listed = garrison("users", "list", "--json").json()
    assert listed[0]["username"] == "lan"
    assert sorted(listed[0]["roles"]) == ["administrator@SKHCN", "member_staff@SYT"]
    issued = garrison("users", "token", "lan", "--scope", "read")
    secret = issued.out.strip().splitlines()[-1]
    assert issued.code == 0 and secret.startswith("gar_")
    database = Database(create_database_engine(database_url))
    with database.session() as session:
        principal = principal_for_token(session, secret)
        assert principal is not None and principal.scopes == frozenset({"read"})
    prefix = secret.split("_")[1]
    assert garrison("users", "token", "lan", "--revoke", prefix).code == 0
    with database.session() as session:
        assert principal_for_token(session, secret) is None
        assert principal_for_token(session, secret[:-1] + "x") is None
    database.dispose()


def test_users_bad_input(garrison) -> None:
    assert garrison("demo").code == 0
    weak = garrison(
        "users", "add", "bob", "--org", "SYT", "--role", "member_staff", "--password", "short"
    )
    assert weak.code == 1 and "at least 10 characters" in weak.err
    assert garrison("users", "add", "bob", "--org", "SYT", "--role", "king").code == 2
    nowhere = garrison(
        "users",
        "add",
        "bob",
        "--org",
        "Nowhere",
        "--role",
        "member_staff",
        "--password",
        "mat-khau-dai-du",
    )
    assert nowhere.code == 1 and "Nowhere" in nowhere.err
    assert garrison("users", "list", "--json").json() == []


def test_serve_with_several_workers_answers_from_each(tmp_path: Path) -> None:
    """`serve --workers 2` hands the command's settings to worker processes of their own."""
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "data"
    command = ["--data-dir", str(data), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(
        [sys.executable, "-m", "garrison", *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, answered = time.monotonic() + 60, None
        while answered is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert log.count("Started server process") >= 2, log
    assert (data / "garrison.sqlite3").is_file()
