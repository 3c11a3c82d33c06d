"""Browser test set-up: the real app on uvicorn over the demo province, driven by real Chromium.

The server listens on 127.0.0.1 only, one per test, on a port the system picks; the browser is
Debian's Chromium (installed by ./scripts/test), launched once per session with every
background-networking feature off, and each test gets a fresh context whose requests may only
go to 127.0.0.1. A test fails, rather than passes quietly, if a page throws, logs an error,
fails to load a script or stylesheet, or tries to reach another host.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, Route, sync_playwright

from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = "127.0.0.1"
DEAD_PROXY = f"http://{LOOPBACK}:9"  # the discard port: nothing listens, connections fail
SERVER_START_SECONDS = 30.0
SERVER_STOP_SECONDS = 10.0

# Records, in every page, the Content-Security-Policy violations it reports: a violation means
# markup the app should have escaped reached the page and only the policy stopped it.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const source = event.target;
  window.__cspViolations.push(event.violatedDirective + " " + (source.outerHTML || source));
});
"""


class LiveServer:
    """The Garrison app on uvicorn in a background thread, on a free port of 127.0.0.1."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((LOOPBACK, 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://{LOOPBACK}:{self.port}"
        config = uvicorn.Config(
            create_app(database, settings),
            log_level="warning",
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"garrison-e2e-server-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                pytest.fail(f"the uvicorn server on {self.url} stopped while starting (see log)")
            if time.monotonic() > deadline:
                pytest.fail(f"the uvicorn server on {self.url} did not start in time")
            time.sleep(0.02)
        with socket.create_connection((LOOPBACK, self.port), timeout=5):
            pass  # it accepts connections

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(SERVER_STOP_SECONDS)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(SERVER_STOP_SECONDS)
        self._socket.close()
        if self._thread.is_alive():
            pytest.fail(f"the uvicorn server on {self.url} did not stop")


@pytest.fixture
def live_server(province: Database, tmp_path: Path) -> Iterator[LiveServer]:
    """The real app serving the demo province (SQLite and PostgreSQL) on 127.0.0.1."""
    server = LiveServer(province, load_settings(data_dir=tmp_path / "data", language="vi"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Run "
            "./scripts/test, which installs it, or `apt-get install -y chromium` "
            "(never `playwright install`: its download is not reachable here)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            # Anything not bound for 127.0.0.1 goes to a proxy that does not exist: the browser
            # itself cannot reach beyond loopback, whatever a page or Chromium tries.
            proxy={"server": DEAD_PROXY, "bypass": LOOPBACK},
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageProblems:
    """What went wrong in the browser during one test; all must stay empty."""

    off_host_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        return [
            *(f"request beyond 127.0.0.1 (blocked): {url}" for url in self.off_host_requests),
            *(f"script error: {text}" for text in self.page_errors),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"resource failed: {text}" for text in self.failed_resources),
        ]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, page_problems: PageProblems) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server, confined to 127.0.0.1."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)

    def confine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            page_problems.off_host_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def console(message: ConsoleMessage) -> None:
        # A page answered with 401/403/404 is logged as "Failed to load resource"; tests check
        # those statuses themselves, and failed scripts and styles are caught by `response`.
        if message.type != "error" or message.text.startswith("Failed to load resource"):
            return
        page_problems.console_errors.append(message.text)

    def response(answer: Response) -> None:
        if answer.status >= 400 and answer.request.resource_type != "document":
            page_problems.failed_resources.append(f"{answer.status} {answer.url}")

    context.route("**/*", confine)
    opened = context.new_page()
    opened.on("pageerror", lambda error: page_problems.page_errors.append(str(error)))
    opened.on("console", console)
    opened.on("response", response)
    try:
        yield opened
    finally:
        context.close()
    problems = page_problems.report()
    assert not problems, "the browser saw problems:\n" + "\n".join(problems)
