"""A request that searched the web says so in its usage record and pays the per-search price."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.search.conftest import FakeWeb
from tests.search.test_server import MODEL, QUESTION, search_config
from tests.support.server import RunningServer, run_server

PER_SEARCH = 0.25


@pytest.fixture(scope="module")
def priced(fake_web: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = search_config(fake_web)
    config["search"]["fetch"]["allow_networks"] = ["127.0.0.1/32"]
    config["models"] = [
        {"name": MODEL, "channels": [{"provider": "local"}], "price": {"per_search": PER_SEARCH}}
    ]
    with run_server(tmp_path_factory.mktemp("search-priced"), config=config) as running:
        yield running


def _ask(server: RunningServer, **extra: Any) -> str:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "max_tokens": 2,
        **extra,
    }
    response = httpx.post(
        server.api_url + "/chat/completions",
        json=body,
        timeout=120,
        headers={"Authorization": f"Bearer {server.admin_key}"},
    )
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"]


def _entry(server: RunningServer, request_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listing = httpx.get(server.api_url + "/usage/requests", headers=headers, timeout=10)
        for entry in listing.json()["data"]:
            if entry["request_id"] == request_id:
                return dict(entry)
        time.sleep(0.1)
    raise AssertionError(f"{request_id} never reached the ledger")


def test_search_is_marked_and_billed_per_search(priced: RunningServer, web: FakeWeb) -> None:
    searched = _entry(priced, _ask(priced, with_search_enhance=True))
    plain = _entry(priced, _ask(priced))
    assert searched["searches"] == 1 and searched["cost"] == pytest.approx(PER_SEARCH)
    assert plain["searches"] == 0 and plain["cost"] == 0
