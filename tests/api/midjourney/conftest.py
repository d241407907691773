"""A server with Midjourney channels on fake midjourney-proxy servers, on SQLite and on
PostgreSQL, and a receiver standing for clients' notify hooks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.midjourney import SECRET, FakeMidjourney
from tests.fakes.server import free_port, serve_asgi
from tests.support.server import RunningServer
from tests.support.stores import STORES, run_on_store

PRICES = {"IMAGINE": 0.1, "UPSCALE": 0.05, "ZOOM": 0.08}
IMAGINE_MICROS = 100_000
UPSCALE_MICROS = 50_000


@dataclass
class HookReceiver:
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self, request: Request) -> Response:
        self.calls.append(await request.json())
        return JSONResponse({})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])


@dataclass
class Fakes:
    main: FakeMidjourney
    relaxed: FakeMidjourney
    dead: FakeMidjourney
    hooks: HookReceiver
    hook_url: str


@dataclass
class MJ:
    server: RunningServer
    fakes: Fakes
    stuck_seconds: float

    def client(self, key: str | None = None, *, header: str = "bearer") -> httpx.Client:
        token = key or self.server.admin_key
        headers = (
            {"mj-api-secret": token} if header == "mj" else {"Authorization": f"Bearer {token}"}
        )
        return httpx.Client(base_url=self.server.base_url, headers=headers, timeout=30)

    def new_key(self, owner: str, quota: float | None = None) -> dict[str, Any]:
        with self.client() as admin:
            body: dict[str, Any] = {"owner": owner}
            if quota is not None:
                body["quota"] = quota
            answer = admin.post("/admin/keys", json=body)
        assert answer.status_code in (200, 201), answer.text
        created: dict[str, Any] = answer.json()
        return created

    def cost(self, key_id: str) -> int:
        with self.client() as admin:
            report = admin.get("/admin/usage", params={"key_id": key_id})
        assert report.status_code == 200, report.text
        return int(report.json()["totals"]["cost_micros"])


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """`check()`'s first truthy value, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    main, relaxed, dead = FakeMidjourney(), FakeMidjourney(), FakeMidjourney(mode="no_account")
    hooks = HookReceiver()
    with (
        serve_asgi(main.app()) as main_url,
        serve_asgi(relaxed.app()) as relaxed_url,
        serve_asgi(dead.app()) as dead_url,
        serve_asgi(hooks.app()) as hooks_url,
    ):
        main.base_url, relaxed.base_url, dead.base_url = main_url, relaxed_url, dead_url
        yield Fakes(main, relaxed, dead, hooks, hooks_url + "/hook")


def mj_config(fakes: Fakes, port: int, stuck_seconds: float) -> dict[str, Any]:
    def channel(name: str, fake: FakeMidjourney, **more: Any) -> dict[str, Any]:
        return {"name": name, "base_url": fake.base_url, "api_secret": SECRET} | more

    return {
        # a chat model on an upstream, so the embedded engine is not loaded
        "models": [
            {
                "name": "chat-relay",
                "channels": [
                    {"provider": "openai_compat", "base_url": fakes.main.base_url, "api_key": "x"}
                ],
            }
        ],
        "midjourney": {
            "public_url": f"http://127.0.0.1:{port}",
            "poll_seconds": 0.5,
            "stuck_seconds": stuck_seconds,
            "hook_networks": ["127.0.0.0/8"],
            "prices": PRICES,
            "channels": [
                # tried first for fast tasks, and out of accounts
                channel("dead", fakes.dead, modes=["fast"], weight=1_000_000),
                channel("main", fakes.main, modes=["fast"]),
                channel("relaxed", fakes.relaxed, modes=["relax"], mode_paths=True),
                # the upstream refuses this secret
                channel("wrong", fakes.main, modes=["turbo"]) | {"api_secret": "sk-leak-me"},
            ],
        },
    }


@pytest.fixture(scope="module", params=STORES)
def mj(
    request: pytest.FixtureRequest, fakes: Fakes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MJ]:
    port, stuck = free_port(), 8.0
    data = tmp_path_factory.mktemp(f"mj-{request.param}")
    with run_on_store(request.param, data, mj_config(fakes, port, stuck), port=port) as running:
        yield MJ(running, fakes, stuck)
