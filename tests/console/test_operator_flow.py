"""The whole of issue 18 in a browser, as an operator and a new user would do it, on a server
with a fake OpenAI-compatible upstream: the operator signs in, adds a channel, tests it,
mints a redemption code and signs out; a new user signs up, redeems the code, creates a key,
chats through the new channel in the playground and finds the request in the logs with its
channel and its cost in the server's currency. In English and in zh-CN (switched in the
header), at desktop and phone width, on SQLite and once on PostgreSQL; every page is
photographed and no table hides columns without its scroll hint."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.console.conftest import ARTIFACTS, DESKTOP, PHONE, Console, _console
from tests.console.operator_flow_support import (
    OPERATOR,
    PASSWORD,
    FlowServer,
    assert_no_clipped_columns,
    flow_server,
)

T = TypeVar("T")
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
HEADINGS = {
    "en": {
        "channels": "Channels",
        "codes": "Redemption codes",
        "logs": "Logs",
        "mykeys": "My keys",
    },
    "zh-CN": {"channels": "渠道", "codes": "兑换码", "logs": "日志", "mykeys": "我的令牌"},
}
CASES = [
    pytest.param("sqlite", "en", DESKTOP, id="sqlite-en-desktop"),
    pytest.param("sqlite", "zh-CN", DESKTOP, id="sqlite-zh-desktop"),
    pytest.param("sqlite", "en", PHONE, id="sqlite-en-phone"),
    pytest.param("sqlite", "zh-CN", PHONE, id="sqlite-zh-phone"),
    pytest.param("postgresql", "en", DESKTOP, id="postgresql-en-desktop"),
]


class Servers(dict[str, FlowServer]):
    """One server a store, started when a case first needs it and stopped with the module."""

    def __init__(self, stack: ExitStack, tmp: pytest.TempPathFactory) -> None:
        super().__init__()
        self.stack, self.tmp = stack, tmp

    def __missing__(self, store: str) -> FlowServer:
        manager = flow_server(store, self.tmp.mktemp(f"flow-{store}"))
        self[store] = in_thread(manager.__enter__)
        self.stack.callback(in_thread, lambda: manager.__exit__(None, None, None))
        return self[store]


def in_thread(work: Callable[[], T]) -> T:
    """Runs `work` in a thread of its own: Playwright's sync API keeps an event loop running
    in this one, and the PostgreSQL helper makes its throwaway database with asyncio.run."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    with ExitStack() as stack:
        yield Servers(stack, tmp_path_factory)


@contextmanager
def browser_page(
    browser: Browser, flow: FlowServer, request: pytest.FixtureRequest, viewport: ViewportSize
) -> Iterator[Console]:
    pages = contextmanager(_console)(browser, flow.server, request, viewport)
    with pages as console:
        yield console


class Flow:
    """Steps of the flow in one browser page, with a photograph of each page it shows."""

    def __init__(self, console: Console, lang: str, shots: str) -> None:
        self.console, self.page, self.lang, self.shots = console, console.page, lang, shots

    def start(self) -> None:
        self.page.goto(self.console.url)
        self.page.get_by_test_id("lang").select_option(self.lang)
        expect(self.page.locator("html")).to_have_attribute("lang", self.lang)

    def sign_in(self, username: str, *, sign_up: bool = False) -> None:
        page = self.page
        if sign_up:
            page.get_by_test_id("signup-toggle").click()
        page.get_by_test_id("signin-username").fill(username)
        page.get_by_test_id("signin-password").fill(PASSWORD)
        page.get_by_test_id("signin-account-submit").click()
        page.locator("#nav").wait_for(state="visible")

    def open(self, name: str, ready: str) -> None:
        self.console.open(name)
        expect(self.page.get_by_test_id(ready).first).to_be_visible()
        if name in HEADINGS[self.lang]:
            expect(self.page.locator("main h1")).to_have_text(HEADINGS[self.lang][name])

    def photograph(self, name: str) -> None:
        expect(self.page.locator("main")).not_to_contain_text(re.compile(r"Loading…|加载中"))
        assert_no_clipped_columns(self.page, f"{self.shots} {name}")
        # Nothing but a table's own wrapper scrolls sideways: the page fits the screen.
        assert self.page.evaluate(OVERFLOW) <= 0, f"{self.shots} {name} is wider than the screen"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"flow-{self.shots}-{name}.png", full_page=True)


def operator_part(flow: Flow, server: FlowServer, run: str) -> tuple[str, str]:
    """Adds and tests a channel, mints a code; the channel's name and the code."""
    page = flow.page
    flow.start()
    flow.sign_in(OPERATOR)
    name, model = f"flow-{run}", f"flow-{run}-gpt"
    flow.open("channels", "channel-form")
    page.get_by_test_id("channel-name").fill(name)
    page.get_by_test_id("channel-base-url").fill(server.upstream_url)
    page.get_by_test_id("channel-keys").fill("sk-test-1")
    page.get_by_test_id("channel-models").fill(model)
    page.get_by_test_id("channel-price-prompt").fill("2")
    page.get_by_test_id("channel-price-completion").fill("4")
    page.get_by_test_id("channel-save").click()
    row = page.get_by_test_id(f"channel-row-{name}")
    expect(row.get_by_test_id("channel-status")).to_have_class(re.compile(r"\benabled\b"))
    row.get_by_test_id("channel-test").click()
    note = page.get_by_test_id("channel-note")
    expect(note).to_have_class("ok")
    expect(note).to_contain_text(re.compile(r"\d+"))
    expect(row.get_by_test_id("channel-last-test")).to_contain_text(re.compile(r"\d+"))
    flow.photograph("channels")

    flow.open("codes", "code-create")
    page.get_by_test_id("code-batch").fill(f"flow-{run}")
    page.get_by_test_id("code-tokens").fill("100000")
    page.locator("form input[name=amount]").fill("5")
    page.get_by_test_id("code-create").click()
    code = (page.get_by_test_id("new-codes").locator("pre").text_content() or "").strip()
    assert re.fullmatch(r"\S{8,}", code), code
    flow.photograph("codes")
    for other, ready in (
        ("users", "user-search"),
        ("groups", "group-create"),
        ("dashboard", "dash-totals"),
        ("logs", "log-filters"),
    ):
        flow.open(other, ready)
        flow.photograph(f"admin-{other}")
    page.locator("#signout").click()
    expect(page.get_by_test_id("signin-username")).to_be_visible()
    return name, code


def user_part(flow: Flow, server: FlowServer, run: str, channel: str, code: str) -> None:
    page = flow.page
    user = f"user{run}"
    flow.sign_in(user, sign_up=True)

    flow.open("redeem", "redeem-code")
    page.get_by_test_id("redeem-code").fill(code)
    page.get_by_test_id("redeem-submit").click()
    expect(page.get_by_test_id("redeem-result")).to_contain_text("100")
    with server.admin() as api:
        redeemed = [c for c in api.get("/admin/codes").json()["data"] if c["status"] == "redeemed"]
    assert [c["redeemed_username"] for c in redeemed if c["batch"] == f"flow-{run}"] == [user]
    flow.photograph("redeem")

    flow.open("mykeys", "my-key-create")
    page.get_by_test_id("my-key-name").fill("laptop")
    page.get_by_test_id("my-key-create").click()
    secret = page.get_by_test_id("my-new-key-value").text_content() or ""
    assert secret.startswith("sk-"), secret
    expect(page.get_by_test_id("my-key-row-laptop").get_by_test_id("my-key-status")).to_be_visible()
    own = httpx.get(
        server.server.base_url + "/v1/key",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    assert own.status_code == 200 and own.json()["name"] == "laptop", own.text
    flow.photograph("mykeys")

    flow.open("playground", "prompt")
    page.get_by_test_id("model").select_option(f"flow-{run}-gpt")
    page.get_by_test_id("param-max_tokens").fill("16")
    page.get_by_test_id("prompt").fill("Say hello.")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("assistant-output").last).not_to_be_empty()
    expect(page.get_by_test_id("send")).to_be_enabled()
    models = [
        r["body"]["model"]
        for r in server.upstream.state.requests
        if r["body"]["model"] == f"flow-{run}-gpt"
    ]
    assert models, "the chat did not reach the new channel's upstream"
    flow.photograph("playground")

    flow.open("logs", "log-filters")
    rows = page.get_by_test_id("log-row")
    expect(rows).to_have_count(1)
    expect(rows.get_by_test_id("log-channel")).to_contain_text(channel)
    expect(rows.get_by_test_id("log-cost")).to_contain_text("USD")
    expect(rows.get_by_test_id("log-cost")).not_to_have_text(re.compile(r"^0[.,]00 USD$"))
    with server.admin() as api:
        logged = api.get("/admin/usage/requests", params={"model": f"flow-{run}-gpt"}).json()[
            "data"
        ]
    assert [(e["username"], e["channel_name"], e["currency"]) for e in logged] == [
        (user, channel, "USD")
    ], logged
    assert logged[0]["cost_micros"] > 0
    flow.photograph("logs")
    flow.open("dashboard", "dash-totals")
    expect(page.get_by_test_id("dash-totals")).to_contain_text("1")
    flow.photograph("dashboard")


@pytest.mark.parametrize(("store", "lang", "viewport"), CASES)
def test_operator_flow(
    browser: Browser,
    servers: Servers,
    request: pytest.FixtureRequest,
    store: str,
    lang: str,
    viewport: ViewportSize,
) -> None:
    server = servers[store]
    run = uuid.uuid4().hex[:6]
    shots = f"{store}-{lang}-{'phone' if viewport == PHONE else 'desktop'}"
    with browser_page(browser, server, request, viewport) as console:
        flow = Flow(console, lang, shots)
        channel, code = operator_part(flow, server, run)
        user_part(flow, server, run, channel, code)
    assert Path(ARTIFACTS / f"flow-{shots}-logs.png").exists()
