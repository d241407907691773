"""What the operator flow test needs besides the browser: its server on a store with a fake
OpenAI-compatible upstream, accounts made through the API, and the console's checks that
hold on every page (no table column clipped without its scroll hint)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page
from starlette.applications import Starlette

from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer
from tests.support.stores import run_on_store

DEAD_URL = "http://127.0.0.1:9/v1"
PASSWORD = "correct horse battery staple"

# Every table in <main> that is wider than its wrapper must have the wrapper's scroll hint
# shown; a table outside a wrapper must not be wider than <main>. Returns the offenders.
CLIPPED = """() => {
  const main = document.querySelector("main");
  const shown = (el) => {
    if (!el) return false;
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden"
      && Number(style.opacity) > 0 && el.getBoundingClientRect().width > 0;
  };
  const tables = [...main.querySelectorAll("table")].filter((table) => table.offsetParent);
  return tables.flatMap((table) => {
    const name = table.querySelector("th")?.textContent || "table";
    const wrap = table.closest(".table-wrap");
    if (!wrap) return table.scrollWidth > main.clientWidth + 1 ? [`${name}: no wrapper`] : [];
    if (wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft <= 2) return [];
    const hint = wrap.parentElement.querySelector('[data-testid="scroll-hint"]');
    return shown(hint) ? [] : [`${name}: no scroll hint`];
  });
}"""


OPERATOR = "operator"


@dataclass
class FlowServer:
    server: RunningServer
    upstream: Starlette
    upstream_url: str  # the fake upstream's /v1

    def admin(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.server.admin_key}"}
        return httpx.Client(base_url=self.server.base_url, headers=headers, timeout=30)


def flow_config() -> dict[str, Any]:
    # A settings model on a dead upstream: the flow's chat must go through the runtime channel.
    channel = {"provider": "openai_compat", "base_url": DEAD_URL, "api_key": "sk-x"}
    return {"models": [{"name": "settings-model", "channels": [channel]}]}


@contextmanager
def flow_server(store: str, data_dir: Path) -> Iterator[FlowServer]:
    upstream = create_app()
    with serve_asgi(upstream) as url, run_on_store(store, data_dir, flow_config()) as server:
        sign_up(server, OPERATOR).close()  # the first account is root: the operator
        yield FlowServer(server, upstream, url + "/v1")


def sign_up(server: RunningServer, username: str) -> httpx.Client:
    """A new account through /auth/signup: a client holding its session (cookie + CSRF)."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    reply = client.post("/auth/signup", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 201, reply.text
    client.headers["X-CSRF-Token"] = reply.json()["csrf_token"]
    return client


def console_key_of(session: httpx.Client, name: str) -> str:
    """A key of the signed-up account, made with its session, to sign in to the console."""
    reply = session.post("/v1/user/keys", json={"name": name})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["key"])


def assert_no_clipped_columns(page: Page, where: str) -> None:
    # The hint follows a ResizeObserver and a MutationObserver: give them a moment.
    deadline = time.monotonic() + 3
    while (clipped := page.evaluate(CLIPPED)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not clipped, f"{where}: {clipped}"
