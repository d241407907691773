"""A server with console sign-in on each store, and a browser-like client of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import RunningServer
from tests.support.stores import run_on_store

DEAD_URL = "http://127.0.0.1:9/v1"


def auth_config(**accounts: Any) -> dict[str, Any]:
    channel = {"provider": "openai_compat", "base_url": DEAD_URL, "api_key": "sk-x"}
    return {"models": [{"name": "m", "channels": [channel]}], "accounts": accounts}


@contextmanager
def auth_server(store: str, data_dir: Path, **accounts: Any) -> Iterator[RunningServer]:
    with run_on_store(store, data_dir, auth_config(**accounts)) as server:
        yield server


class Browser:
    """Sends the session cookie it was given, as a browser would on the same origin."""

    def __init__(self, server: RunningServer) -> None:
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.cookie: str | None = None
        self.csrf = ""
        self.set_cookie = ""  # the raw Set-Cookie of the last sign-in

    def signin(self, username: str, password: str, path: str = "/auth/signin") -> httpx.Response:
        reply = self.http.post(path, json={"username": username, "password": password})
        if reply.status_code in (200, 201):
            self.set_cookie = reply.headers["set-cookie"]
            self.cookie = self.set_cookie.split(";", 1)[0].split("=", 1)[1]
            self.csrf = reply.json()["csrf_token"]
        return reply

    def request(self, method: str, path: str, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if self.cookie:
            headers["cookie"] = f"modelport_session={self.cookie}"
        if csrf and self.csrf:
            headers["x-csrf-token"] = self.csrf
        return self.http.request(method, path, headers=headers, **kw)
