"""One `modelport serve` for the hardening suite: the embedded model, a fake OpenAI upstream as
channels (healthy ones and ones that fail in set ways), a small upload limit, a fast ledger.

Each fault scenario gets its own public model, so circuit breakers (kept per channel) never
leak between tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.fakes.midjourney import SECRET as MJ_SECRET
from tests.fakes.midjourney import FakeMidjourney
from tests.fakes.openai_upstream import create_app as create_openai
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

LOCAL_MODEL = "smollm2-135m-instruct"
MAX_FILE_BYTES = 256 * 1024
KEY_FAULTS = {
    "sk-reset": "reset",
    "sk-garbage": "garbage",
    "sk-truncate": "truncate",
    "sk-stall": "stall",
    "sk-429": "429",
    "sk-mid": "midstream-error",
}
GOOD_KEYS = frozenset({"sk-good", "sk-backup"})
STALL_SECONDS = 30.0  # the fake's silence; the channels below give up after a fraction of it


def _channel(key: str, url: str, weight: int = 1, **extra: Any) -> dict[str, Any]:
    channel = {"provider": "openai_compat", "base_url": url, "api_key": key, "weight": weight}
    return {**channel, "upstream_model": "gpt-upstream", **extra}


def catalogue(url: str) -> list[dict[str, Any]]:
    """The local model, a healthy upstream model, and one model per upstream fault whose first
    channel fails and whose second (weight 0: only as a fallback) is healthy."""
    short: dict[str, Any] = {"read_timeout": 1.0, "first_token_timeout": 1.0, "idle_timeout": 1.0}

    def faulty(name: str, key: str, **extra: Any) -> dict[str, Any]:
        first = _channel(key, url, **short, **extra)
        return {"name": name, "channels": [first, _channel("sk-backup", url, weight=0)]}

    models = [
        {"name": LOCAL_MODEL, "channels": [{"provider": "local"}]},
        {"name": "fake-gpt", "channels": [_channel("sk-good", url, **short)]},
        {"name": "fault-only", "channels": [_channel("sk-good", url, **short)]},
        {
            "name": "stall-only",
            "channels": [_channel("sk-stall", url, **short)],
        },
    ]
    models += [faulty(f"fault-{fault}", key) for key, fault in KEY_FAULTS.items()]
    return models


@pytest.fixture(scope="session")
def upstream() -> Iterator[tuple[Starlette, str]]:
    """The fake OpenAI upstream and its `/v1` URL."""
    app = create_openai(keys=frozenset(GOOD_KEYS | KEY_FAULTS.keys()))
    app.state.key_faults.update(KEY_FAULTS)
    app.state.stall_seconds = STALL_SECONDS
    with serve_asgi(app) as url:
        yield app, url + "/v1"


@pytest.fixture(scope="session")
def midjourney_url() -> Iterator[str]:
    """A fake midjourney-proxy server, so the `/mj/...` routes are served and driven too."""
    fake = FakeMidjourney()
    with serve_asgi(fake.app()) as url:
        fake.base_url = url
        yield url


def server_config(upstream_url: str, midjourney_url: str = "") -> dict[str, Any]:
    channels = [{"name": "mj", "base_url": midjourney_url, "api_secret": MJ_SECRET}]
    return {
        "models": catalogue(upstream_url),
        "midjourney": {"channels": channels if midjourney_url else []},
        "max_file_bytes": MAX_FILE_BYTES,
        "ledger_flush_seconds": 0.1,
        "engine": {"slots": 4, "context_per_slot": 512},
        "routing": {"max_attempts": 3, "breaker_failures": 50, "breaker_window": 50},
    }


@pytest.fixture(scope="session")
def hard_server(
    upstream: tuple[Starlette, str],
    midjourney_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("hardening")
    config = server_config(upstream[1], midjourney_url)
    with run_server(data_dir, config=config) as running:
        yield running


@pytest.fixture(scope="session")
def admin(hard_server: RunningServer) -> Iterator[httpx.Client]:
    """httpx as the admin key, at the server's root (routes are given with /v1 or /admin)."""
    headers = {"Authorization": f"Bearer {hard_server.admin_key}"}
    with httpx.Client(base_url=hard_server.base_url, headers=headers, timeout=60) as client:
        yield client
