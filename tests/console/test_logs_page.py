"""Logs and dashboard pages of a user with requests through a runtime channel on a fake
upstream: keyset pages, filters, the CSV of the same filters; the dashboard asked in the
browser's time zone; channel health for admins."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import ARTIFACTS, DESKTOP
from tests.console.operator_flow_support import (
    FlowServer,
    assert_no_clipped_columns,
    console_key_of,
    flow_server,
    sign_up,
)

ZONE = "Asia/Shanghai"


@dataclass
class Logged:
    flow: FlowServer
    console_key: str
    channel: str
    ok: int  # requests that succeeded (one of them streamed)


def chat(base: str, key: str, text: str, *, stream: bool = False) -> httpx.Response:
    body = {"model": "logs-gpt", "messages": [{"role": "user", "content": text}], "stream": stream}
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(base + "/v1/chat/completions", json=body, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logged]:
    with flow_server("sqlite", tmp_path_factory.mktemp("logs")) as flow, flow.admin() as api:
        name = f"logs-{uuid.uuid4().hex[:6]}"
        channel = {
            "name": name,
            "provider": "openai_compat",
            "base_url": flow.upstream_url,
            "api_keys": ["sk-test-1"],
            "models": ["logs-gpt"],
            "price": {"prompt": 2, "completion": 4},
        }
        assert api.post("/admin/channels", json=channel).status_code == 201
        session = sign_up(flow.server, "logsuser")
        # Signed in with a key, the console shows that key's rows (a session: the account's).
        worker = console_key_of(session, "console")
        base = flow.server.base_url
        for i in range(50):
            assert chat(base, worker, f"hello {i}").status_code == 200
        assert chat(base, worker, "stream please", stream=True).status_code == 200
        assert chat(base, worker, "FAULT:500").status_code >= 500
        yield Logged(flow, worker, name, ok=51)


def signed_in(browser: Browser, logged: Logged, key: str) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, timezone_id=ZONE, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(logged.flow.server.base_url + "/console/")
    page.get_by_test_id("signin-key").fill(key)
    page.get_by_test_id("signin-submit").click()
    page.locator("#nav").wait_for(state="visible")
    try:
        yield page
    finally:
        context.close()
    assert errors == []


@pytest.fixture
def user_page(browser: Browser, logged: Logged) -> Iterator[Page]:
    yield from signed_in(browser, logged, logged.console_key)


@pytest.fixture
def admin_page(browser: Browser, logged: Logged) -> Iterator[Page]:
    yield from signed_in(browser, logged, logged.flow.server.admin_key)


def test_log_pages_filters_and_csv(user_page: Page, logged: Logged) -> None:
    page = user_page
    page.locator('#nav a[data-page="logs"]').click()
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(50)  # a page
    expect(rows.first.get_by_test_id("log-channel")).to_contain_text(logged.channel)
    expect(rows.first.get_by_test_id("log-cost")).to_contain_text("USD")
    page.get_by_test_id("log-more").click()
    expect(rows).to_have_count(52)
    expect(page.get_by_test_id("log-more")).to_be_hidden()
    assert_no_clipped_columns(page, "logs")
    page.screenshot(path=ARTIFACTS / "logs-page.png", full_page=True)

    page.get_by_test_id("filter-status").select_option("error")
    page.get_by_test_id("log-apply").click()
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("log-status")).to_have_text("502")
    page.get_by_test_id("filter-status").select_option("")
    page.get_by_test_id("filter-stream").select_option("true")
    page.get_by_test_id("log-apply").click()
    expect(rows).to_have_count(1)

    page.get_by_test_id("filter-stream").select_option("")
    page.get_by_test_id("filter-status").select_option("ok")
    page.get_by_test_id("log-apply").click()
    expect(rows).to_have_count(50)
    with page.expect_download() as download:
        page.get_by_test_id("log-export").click()
    text = download.value.path().read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(table) == logged.ok  # every successful request, not only the page shown
    assert {row["status"] for row in table} == {"200"}


def test_dashboard_in_the_viewers_zone(user_page: Page, logged: Logged) -> None:
    page = user_page
    with page.expect_request(lambda r: "/v1/dashboard?" in r.url) as asked:
        page.locator('#nav a[data-page="dashboard"]').click()
    assert "tz=Asia%2FShanghai" in asked.value.url
    expect(page.get_by_test_id("dash-zone")).to_contain_text(ZONE)
    expect(page.get_by_test_id("dash-totals")).to_contain_text("52 requests")
    expect(page.get_by_test_id("dash-top-requests")).to_contain_text("logs-gpt")
    expect(page.get_by_test_id("dash-chart-requests").locator("canvas")).to_have_count(1)


def test_admin_dashboard_shows_channel_health(admin_page: Page, logged: Logged) -> None:
    page = admin_page
    page.locator('#nav a[data-page="dashboard"]').click()
    row = page.get_by_test_id(f"health-row-{logged.channel}")
    expect(row.get_by_test_id("health-errors")).to_contain_text("(1 of 52)")
    expect(row.get_by_test_id("health-state")).to_be_visible()
    assert_no_clipped_columns(page, "dashboard")
    page.screenshot(path=ARTIFACTS / "dashboard-admin.png", full_page=True)


def test_admin_sees_everyones_requests_and_filters_by_user(
    admin_page: Page, logged: Logged
) -> None:
    page = admin_page
    page.locator('#nav a[data-page="logs"]').click()
    rows = page.get_by_test_id("log-row")
    expect(rows.first).to_contain_text("logsuser")
    with logged.flow.admin() as api:
        user_id = api.get("/admin/users", params={"q": "logsuser"}).json()["data"][0]["id"]
    page.get_by_test_id("filter-user").fill(user_id)
    page.get_by_test_id("filter-status").select_option("error")
    page.get_by_test_id("log-apply").click()
    expect(rows).to_have_count(1)
    page.get_by_test_id("filter-user").fill("usr_nobody")
    page.get_by_test_id("log-apply").click()
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("log-rows")).to_contain_text("No requests match.")
