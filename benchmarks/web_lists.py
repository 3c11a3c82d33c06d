"""Web list latency: organisation and asset pages and /api/v1/assets?limit=100, p50/p95.

Loads 10,000 organisations and 100,000 assets (the registry benchmark's generator) into SQLite
and PostgreSQL, serves Garrison with uvicorn on 127.0.0.1, and drives each URL with wrk for a
bounded time. The anchor, measured in the same run, is wrk on a static file from the same
server: the floor of the HTTP stack. Target: p95 under 150 ms. On PostgreSQL the fresh load
is vacuumed and analysed first, as autovacuum would do within a minute.

    python benchmarks/web_lists.py [--seconds 10] [--connections 4] [--workers 1]
        [--backend both] [--postgres-url URL] [--database-url URL]

`--database-url` measures a database that already holds the registry (nothing is imported);
`--workers` is passed to `garrison serve`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_import import (
    Sizes,
    fresh_postgres_database,
    migrated,
    postgres_server,
    prepare_files,
    run_import,
)

from garrison.auth.accounts import create_user, grant_membership
from garrison.auth.models import User
from garrison.auth.roles import Role
from garrison.auth.tokens import issue_token
from garrison.core.db import Database, create_database_engine
from garrison.orgs.models import Organisation

TARGET_P95_MS = 150.0
PASSWORD = "do-tre-kiem-thu"
# wrk reports percentiles through its Lua API; print them as one JSON line.
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"p50": %f, "p95": %f, "requests": %d, "errors": %d}\\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Latency:
    backend: str
    url: str
    p50_ms: float
    p95_ms: float
    requests: int
    errors: int

    @property
    def target(self) -> str:
        """Met when requests were answered (none at all means none within wrk's timeout),
        without errors, and fast enough."""
        met = self.requests and not self.errors and self.p95_ms < TARGET_P95_MS
        return "yes" if met else "no"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _credentials(url: str) -> str:
    """An administrator (for the pages) and its API token; the account is reused if present."""
    database = Database(create_database_engine(url))
    with database.session() as session:
        user = session.scalar(select(User).where(User.username == "benchmark"))
        if user is None:
            coordinator = session.query(Organisation).order_by(Organisation.id).first()
            assert coordinator is not None
            user = create_user(session, "benchmark", PASSWORD)
            grant_membership(session, user, str(coordinator.id), Role.ADMINISTRATOR)
        token = issue_token(session, user, "benchmark", {"read"}).secret
    database.dispose()
    return token


@contextlib.contextmanager
def serving(url: str, data_dir: str, workers: int) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "garrison",
            "--database-url",
            url,
            "--data-dir",
            data_dir,
            "serve",
            "--port",
            str(port),
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def _session_cookie(base: str) -> str:
    response = httpx.post(f"{base}/login", data={"username": "benchmark", "password": PASSWORD})
    cookie = response.cookies.get("garrison_session")
    if not cookie:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return cookie


def wrk(url: str, header: str, seconds: int, connections: int, script: Path) -> dict[str, float]:
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    if header:
        command += ["-H", header]
    output = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=seconds + 60,
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def _settle(url: str) -> None:
    """After the bulk load, what autovacuum does within a minute on PostgreSQL (VACUUM
    ANALYZE), so the runs measure the steady state rather than autovacuum at work."""
    engine = create_database_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def measure_backend(
    backend: str, url: str, workbook: Path | None, args: argparse.Namespace, script: Path
) -> list[Latency]:
    if workbook is not None:
        print(f"{backend}: importing {workbook.name}…", flush=True)
        run_import(url, str(workbook))
        _settle(url)
    token = _credentials(url)
    results = []
    with tempfile.TemporaryDirectory() as data_dir, serving(url, data_dir, args.workers) as base:
        cookie = f"Cookie: garrison_session={_session_cookie(base)}"
        targets = [
            ("/static/app.css (anchor)", "", ""),
            ("/organisations", cookie, ""),
            ("/assets", cookie, ""),
            ("/api/v1/assets?limit=100", f"Authorization: Bearer {token}", ""),
        ]
        for path, header, _ in targets:
            location = path.split(" ")[0]
            figures = wrk(f"{base}{location}", header, args.seconds, args.connections, script)
            result = Latency(
                backend,
                path,
                figures["p50"],
                figures["p95"],
                int(figures["requests"]),
                int(figures["errors"]),
            )
            print(
                f"  {path:32} p50 {result.p50_ms:7.1f} ms  p95 {result.p95_ms:7.1f} ms  "
                f"{result.requests:6} requests  {result.errors} errors",
                flush=True,
            )
            results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--organisations", type=int, default=10000)
    parser.add_argument("--networks", type=int, default=20000)
    parser.add_argument("--assets", type=int, default=100000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgres-url")
    parser.add_argument("--database-url", help="measure this database as it is (no import)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is missing: apt-get install wrk")
    results: list[Latency] = []
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "report.lua"
        script.write_text(WRK_REPORT, encoding="utf-8")
        if args.database_url:
            backend = make_url(args.database_url).get_backend_name()
            results += measure_backend(backend, migrated(args.database_url), None, args, script)
        else:
            results += _measure_fresh(args, folder, script)
    _report(results, args)
    return 0 if all(r.target == "yes" for r in results if "anchor" not in r.url) else 1


def _measure_fresh(args: argparse.Namespace, folder: str, script: Path) -> list[Latency]:
    """Import the generated registry into a new database of each backend, then measure."""
    workbook, _rows = prepare_files(Sizes(args.organisations, args.networks, args.assets, 85))
    results: list[Latency] = []
    if args.backend in ("sqlite", "both"):
        url = migrated(f"sqlite:///{Path(folder) / 'garrison.sqlite3'}")
        results += measure_backend("sqlite", url, workbook, args, script)
    if args.backend in ("postgresql", "both"):
        with (
            postgres_server(args.postgres_url) as server,
            fresh_postgres_database(server) as url,
        ):
            results += measure_backend("postgresql", migrated(url), workbook, args, script)
    return results


def _report(results: list[Latency], args: argparse.Namespace) -> None:
    workers = "one uvicorn worker" if args.workers == 1 else f"{args.workers} uvicorn workers"
    print(
        f"\ntarget: p95 < {TARGET_P95_MS:.0f} ms; wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s on 127.0.0.1, {workers}; load {os.getloadavg()[0]:.2f}"
    )
    print(f"{'backend':11}{'url':34}{'p50 ms':>9}{'p95 ms':>9}{'requests':>10}  target")
    for r in results:
        print(
            f"{r.backend:11}{r.url:34}{r.p50_ms:9.1f}{r.p95_ms:9.1f}{r.requests:10}  "
            f"{'-' if 'anchor' in r.url else r.target}"
        )


if __name__ == "__main__":
    sys.exit(main())
