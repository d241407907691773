"""Single sign-on in Chromium: the sign-in page shows the provider's button; clicking it goes
through the (fake) provider and lands in the console signed in as the provider's person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.accounting.auth.helpers import auth_config
from tests.console.conftest import DESKTOP, Console, _console
from tests.fakes.oidc import FakeOidc
from tests.fakes.server import free_port, serve_asgi
from tests.support.server import run_server


@pytest.fixture
def sso_console(
    browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Console]:
    port = free_port()
    provider = FakeOidc(f"http://127.0.0.1:{port}")
    oidc = {
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "button_label": "Sign in with Fake SSO",
    }
    with (
        serve_asgi(provider.app(), port),
        run_server(tmp_path / "data", config=auth_config(oidc=oidc)) as server,
    ):
        yield from _console(browser, server, request, DESKTOP)


def test_single_sign_on_button(sso_console: Console) -> None:
    page = sso_console.page
    page.goto(sso_console.url)
    button = page.get_by_test_id("signin-oidc")
    expect(button).to_have_text("Sign in with Fake SSO")
    button.click()
    page.locator("#nav").wait_for(state="visible")
    expect(page.locator("#whoami")).to_contain_text("jane")
    assert page.url.endswith("/console/")
