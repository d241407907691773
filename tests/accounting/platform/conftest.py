"""Platform fixtures: a fake upstream, servers on SQLite and PostgreSQL, an admin client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.server import serve_asgi
from tests.storage.backends import db, db_url, pg_database_url
from tests.support.postgres import create_database, drop_database
from tests.support.server import RunningServer, run_server

__all__ = ["db", "db_url", "pg_database_url"]

FAKE_MODEL = "fake-gpt"
LOCAL_MODEL = "smollm2-135m-instruct"
BROKEN_MODEL = "broken-gpt"
DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: connections are refused
REDIS_URL = "redis://127.0.0.1:6379/0"
# Prices per 1,000 tokens: 0.5 in, 1.5 out; so 1 prompt token costs 500 micro-units.
PRICE = {"prompt": 0.5, "completion": 1.5}


def platform_config(upstream_url: str, local: bool = True) -> dict[str, Any]:
    models: list[dict[str, Any]] = [
        {
            "name": FAKE_MODEL,
            "price": PRICE,
            "channels": [
                {
                    "provider": "openai_compat",
                    "base_url": upstream_url,
                    "api_key": "sk-test-1",
                    "upstream_model": "gpt-upstream",
                }
            ],
        }
    ]
    models.append(  # nothing listens there: every request fails on this channel
        {"name": BROKEN_MODEL, "channels": [{**models[0]["channels"][0], "base_url": DEAD_URL}]}
    )
    if local:
        models.append({"name": LOCAL_MODEL, "price": PRICE, "channels": [{"provider": "local"}]})
    return {"models": models, "engine": {"slots": 2, "default_max_tokens": 8}}


class Platform:
    """An HTTP client for one server, with the admin key at hand."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=60)

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.as_key(self.server.admin_key, method, path, **kw)

    def as_key(self, key: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **kw.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kw)

    def new_key(self, **fields: Any) -> dict[str, Any]:
        response = self.admin("POST", "/admin/keys", json={"name": "t", "owner": "o", **fields})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def chat(self, key: str, model: str = FAKE_MODEL, **body: Any) -> httpx.Response:
        payload = {"model": model, "messages": [{"role": "user", "content": "hi there"}], **body}
        return self.as_key(key, "POST", "/v1/chat/completions", json=payload)


@pytest.fixture(scope="session")
def upstream_app() -> Any:
    from tests.fakes.openai_upstream import create_app

    return create_app()


@pytest.fixture(scope="session")
def upstream_url(upstream_app: Any) -> Iterator[str]:
    with serve_asgi(upstream_app) as url:
        yield url + "/v1"


@pytest.fixture(scope="session")
def sqlite_platform(
    tmp_path_factory: pytest.TempPathFactory, upstream_url: str
) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("platform-sqlite")
    env = {"MODELPORT_LOG_LEVEL": "info"}
    with run_server(data, config=platform_config(upstream_url), env=env) as running:
        yield Platform(running)


@pytest.fixture(scope="session")
def pg_platform(tmp_path_factory: pytest.TempPathFactory, upstream_url: str) -> Iterator[Platform]:
    name, url = create_database("modelport_platform")
    try:
        data = tmp_path_factory.mktemp("platform-pg")
        env = {"MODELPORT_DATABASE_URL": url, "MODELPORT_LOG_LEVEL": "info"}
        with run_server(data, config=platform_config(upstream_url), env=env) as running:
            platform = Platform(running)
            platform.database_url = url  # type: ignore[attr-defined]
            yield platform
    finally:
        drop_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest) -> Platform:
    """Each test that takes this runs on both stores."""
    name = "sqlite_platform" if request.param == "sqlite" else "pg_platform"
    running: Platform = request.getfixturevalue(name)
    return running


@pytest.fixture
def sqlite_file(sqlite_platform: Platform) -> Path:
    return sqlite_platform.server.data_dir / "modelport.db"


@pytest.fixture(scope="session")
def two_replicas(
    tmp_path_factory: pytest.TempPathFactory, upstream_url: str
) -> Iterator[tuple[Platform, Platform]]:
    """Two `modelport serve` processes on one PostgreSQL database and one Redis."""
    name, url = create_database("modelport_replicas")
    env = {"MODELPORT_DATABASE_URL": url, "MODELPORT_REDIS_URL": REDIS_URL}
    config = platform_config(upstream_url, local=False)
    root: Path = tmp_path_factory.mktemp("replicas")
    try:
        with (
            run_server(root / "a", config=config, env=env) as a,
            run_server(root / "b", config=config, env=env) as b,
        ):
            b.admin_key = a.admin_key  # only the first replica created the bootstrap key
            first, second = Platform(a), Platform(b)
            first.database_url = second.database_url = url  # type: ignore[attr-defined]
            yield first, second
    finally:
        drop_database(name)


def sse_usage(lines: Iterator[str]) -> dict[str, int] | None:
    """The usage a streamed response reported (its last `usage` object), if any."""
    usage = None
    for line in lines:
        if line.startswith("data: {"):
            usage = json.loads(line[6:]).get("usage") or usage
    return usage


def settled_usage(p: Platform, key_id: str, requests: int) -> dict[str, Any]:
    """The key's ledger totals once `requests` rows are in (a stream settles as it closes,
    a moment after its client has read `[DONE]`)."""
    deadline = time.monotonic() + 20
    while True:
        report = p.admin("GET", "/admin/usage", params={"key_id": key_id}).json()
        totals: dict[str, Any] = report["totals"]
        if totals["requests"] >= requests or time.monotonic() > deadline:
            return totals
        time.sleep(0.05)
