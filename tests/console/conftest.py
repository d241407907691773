"""Headless Chromium (Debian's, driven by Playwright) against a real server of our own.

Every test gets a fresh browser context; its screenshot goes to `test-artifacts/console/`
whether it passed or not, and any uncaught error in the page fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from tests.support.server import RunningServer, run_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)


@dataclass
class Console:
    """A page of the console plus what the browser complained about."""

    page: Page
    server: RunningServer
    errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # substrings of errors a test provokes

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(part in e for part in self.expected)]

    @property
    def url(self) -> str:
        return self.server.base_url + "/console/"

    def sign_in(self, key: str | None = None) -> None:
        self.page.goto(self.url)
        self.page.get_by_test_id("signin-key").fill(key or self.server.admin_key)
        self.page.get_by_test_id("signin-submit").click()
        self.page.locator("#nav").wait_for(state="visible")

    def open(self, name: str) -> None:
        self.page.locator(f'#nav a[data-page="{name}"]').click()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of the console tests' own (default embedded setup): the keys, knowledge bases
    and usage they create stay out of other suites' shared server, and theirs out of ours."""
    with run_server(tmp_path_factory.mktemp("console-server")) as running:
        yield running


# Package scope, not session: while Playwright's sync API is alive it keeps an event loop
# marked as running in this thread, and every asyncio test after it would fail to start.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


def _console(
    browser: Browser, server: RunningServer, request: pytest.FixtureRequest, viewport: ViewportSize
) -> Iterator[Console]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console(page, server)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(f"console: {message.text}")

    def on_page_error(error: Error) -> None:
        console.errors.append(f"page error: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        yield console
    finally:
        try:
            console.screenshot(request.node.name)
        finally:
            context.close()
    assert not console.unexpected_errors(), console.errors


@pytest.fixture
def console(
    browser: Browser, console_server: RunningServer, request: pytest.FixtureRequest
) -> Iterator[Console]:
    """A desktop-sized page, not signed in yet."""
    yield from _console(browser, console_server, request, DESKTOP)


@pytest.fixture
def phone(
    browser: Browser, console_server: RunningServer, request: pytest.FixtureRequest
) -> Iterator[Console]:
    """The same at a phone's width."""
    yield from _console(browser, console_server, request, PHONE)
