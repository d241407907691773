"""A modelport server with no upstream channels in its settings, a fake OpenAI-compatible
vendor to add at runtime, and helpers to drive `/admin/channels`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.fakes.openai_upstream import create_app as create_openai
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer
from tests.support.stores import run_on_store

GOOD = {"sk-live-aaaa1111", "sk-live-bbbb2222", "sk-live-cccc3333"}
# Only the settings' model: every upstream channel of these tests is added at runtime.
SETTINGS: dict[str, Any] = {
    "models": [
        {
            "name": "from-yaml",
            "channels": [
                {"provider": "openai_compat", "base_url": "", "api_key": "sk-live-aaaa1111"}
            ],
        }
    ],
    "channels": {"poll_seconds": 0.2, "probe_seconds": 0.5},
}


@dataclass
class Setup:
    server: RunningServer
    vendor: Starlette
    vendor_url: str

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.base_url,
            headers={"Authorization": f"Bearer {self.server.admin_key}"},
            timeout=30,
        )

    def keys_seen(self) -> list[str]:
        return [r["key"] for r in self.vendor.state.requests]

    def upstream_models(self) -> list[str]:
        return [r["body"]["model"] for r in self.vendor.state.requests]


def settings_for(vendor_url: str, **extra: Any) -> dict[str, Any]:
    config = {**SETTINGS, **extra}
    model = config["models"][0]
    config["models"] = [{**model, "channels": [{**model["channels"][0], "base_url": vendor_url}]}]
    return config


@contextmanager
def running(store: str, tmp: Path, **extra: Any) -> Iterator[Setup]:
    vendor = create_openai(keys=frozenset(GOOD))
    with ExitStack() as stack:
        url = stack.enter_context(serve_asgi(vendor)) + "/v1"
        server = stack.enter_context(run_on_store(store, tmp, settings_for(url, **extra)))
        yield Setup(server, vendor, url)


def channel_body(url: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "reseller",
        "provider": "openai_compat",
        "base_url": url,
        "api_keys": ["sk-live-bbbb2222"],
        "models": ["rt-chat"],
        "model_mapping": {"rt-chat": "gpt-4o-mini"},
    }
    return {**body, **fields}


def chat(base_url: str, key: str, model: str, text: str = "hello") -> httpx.Response:
    return httpx.post(
        base_url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": model, "messages": [{"role": "user", "content": text}]},
        timeout=30,
    )


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until `check()` holds (AssertionError after `timeout`)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true after {timeout}s")
        time.sleep(0.02)
    return time.monotonic() - start
