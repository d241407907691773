"""One `modelport serve` whose catalogue points at every fake vendor, and clients for it.

Each scenario gets its own public model so circuit breakers (kept per channel) never leak
between tests. The fake OpenAI upstream knows extra keys whose every request fails in a set
way (`key_faults`), so a model's first channel can fail while its second is healthy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette

from tests.fakes.anthropic import create_app as create_anthropic
from tests.fakes.ernie import FakeErnie
from tests.fakes.gemini import create_app as create_gemini
from tests.fakes.openai_upstream import create_app as create_openai
from tests.fakes.server import free_port, serve_asgi
from tests.fakes.spark import FakeSpark
from tests.support.server import RunningServer, run_server

KEY_FAULTS = {
    "sk-429": "429",
    "sk-500": "500",
    "sk-503": "503",
    "sk-stall": "stall",
    "sk-mid": "midstream-error",
    "sk-reset": "reset",
    "sk-flaky": "500",
}
GOOD_KEYS = {"sk-test-1", "sk-test-2", "sk-w1", "sk-w2", "sk-probe"}
COOLDOWN = 1.0


class Vendors:
    """The fakes and their base URLs."""

    def __init__(self) -> None:
        self.openai: Starlette = create_openai(keys=frozenset(GOOD_KEYS | KEY_FAULTS.keys()))
        self.openai.state.key_faults.update(KEY_FAULTS)
        self.anthropic: Starlette = create_anthropic()
        self.gemini: Starlette = create_gemini()
        self.ernie = FakeErnie()
        self.spark = FakeSpark()
        self.urls: dict[str, str] = {}
        self.victim: Starlette = create_openai()  # served (then killed) by the failover test
        self.victim_port = free_port()

    def openai_keys(self) -> list[str]:
        return [r["key"] for r in self.openai.state.requests]


def _openai(key: str, url: str, weight: int = 1, **extra: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {"provider": "openai_compat", "base_url": url, "api_key": key}
    channel["weight"] = weight
    channel["upstream_model"] = "gpt-4-upstream"
    return {**channel, **extra}


def catalogue(v: Vendors) -> list[dict[str, Any]]:
    u = v.urls
    oa = u["openai"]
    claude: dict[str, Any] = {"provider": "anthropic", "base_url": u["anthropic"]}
    claude["api_key"] = "sk-ant-test-1"
    claude |= {"upstream_model": "claude-fake", "weight": 0}
    refused = f"http://127.0.0.1:{free_port()}/v1"

    def pair(name: str, first: dict[str, Any], second: dict[str, Any] | None = None) -> Any:
        backup = second or _openai("sk-test-2", oa, weight=0)
        return {"name": name, "owned_by": "fallback-tests", "channels": [first, backup]}

    models = [
        {
            "name": "gpt-4",
            "owned_by": "openai",
            "channels": [
                {**_openai("sk-test-1", oa), "api_keys": ["sk-test-2"], "idle_timeout": 5}
            ],
        },
        {"name": "claude-2", "owned_by": "anthropic", "channels": [{**claude, "weight": 1}]},
        {
            "name": "gemini-pro",
            "owned_by": "google",
            "channels": [
                {"provider": "gemini", "base_url": u["gemini"], "api_key": "gm-test-1"}
                | {"upstream_model": "gemini-fake"}
            ],
        },
        {
            "name": "ernie-bot",
            "owned_by": "baidu",
            "channels": [
                {"provider": "ernie", "base_url": u["ernie"], "upstream_model": "ERNIE-3.5-8K"}
                | {"options": {"ak": "test-ak", "sk": "test-sk"}}
            ],
        },
        {
            "name": "spark-v3.5",
            "owned_by": "iflytek",
            "channels": [
                {"provider": "spark", "base_url": u["spark"], "api_key": "test-api-key"}
                | {"upstream_model": "v3.5"}
                | {"options": {"app_id": "app12345", "api_secret": "test-api-secret"}}
            ],
        },
    ]
    scenarios = [
        pair("fallback-429", _openai("sk-429", oa)),
        pair("fallback-500", _openai("sk-500", oa)),
        pair("fallback-503", _openai("sk-503", oa)),
        pair("fallback-refused", _openai("sk-test-1", refused, connect_timeout=1)),
        pair(
            "fallback-timeout",
            _openai("sk-stall", oa, read_timeout=0.5, first_token_timeout=0.5),
        ),
        pair("fallback-to-claude", _openai("sk-503", oa), claude),
        pair("midstream", _openai("sk-mid", oa), claude),
        pair("midstream-reset", _openai("sk-reset", oa), claude),
        pair("flaky", _openai("sk-flaky", oa)),
        pair("ernie-busy", _only(models, "ernie-bot")),
        pair("spark-busy", _only(models, "spark-v3.5")),
        pair("claude-overloaded", {**claude, "weight": 1}),
        pair("gemini-unavailable", _only(models, "gemini-pro"), claude),
        pair("all-fail", _openai("sk-500", oa), _openai("sk-503", oa, weight=0)),
        pair("failover", _openai("sk-test-1", f"http://127.0.0.1:{v.victim_port}/v1")),
        {
            "name": "weighted",
            "channels": [_openai("sk-w1", oa, weight=3), _openai("sk-w2", oa, weight=1)],
        },
    ]
    return [*models, *scenarios]


def _only(models: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The single channel of a vendor model, to reuse as some scenario's first channel."""
    channel: dict[str, Any] = next(m for m in models if m["name"] == name)["channels"][0]
    return {**channel, "weight": 1}


@pytest.fixture(scope="session")
def vendors() -> Iterator[Vendors]:
    v = Vendors()
    with (
        serve_asgi(v.openai) as oa,
        serve_asgi(v.anthropic) as an,
        serve_asgi(v.gemini) as gm,
        serve_asgi(v.ernie.app()) as er,
        serve_asgi(v.spark.app()) as sp,
    ):
        v.urls = {"openai": oa + "/v1", "anthropic": an, "gemini": gm, "ernie": er}
        v.urls["spark"] = sp.replace("http://", "ws://")
        yield v


@pytest.fixture(scope="session")
def gateway(vendors: Vendors, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = {
        "models": catalogue(vendors),
        "routing": {"max_attempts": 3, "breaker_failures": 3, "breaker_cooldown": COOLDOWN},
    }
    data_dir: Path = tmp_path_factory.mktemp("channels")
    with run_server(data_dir, config=config) as running:
        yield running


@pytest.fixture(scope="session")
def sdk(gateway: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.api_url, api_key=gateway.admin_key, max_retries=0)


@pytest.fixture(scope="session")
def raw(gateway: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {gateway.admin_key}"}
    with httpx.Client(base_url=gateway.api_url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def admin(gateway: RunningServer) -> Iterator[httpx.Client]:
    """Raw HTTP at the server's root (the admin API is not under /v1)."""
    headers = {"Authorization": f"Bearer {gateway.admin_key}"}
    with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=30) as client:
        yield client
