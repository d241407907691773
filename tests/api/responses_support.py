"""What the Responses API tests share: a server with the local model and a relayed one (a fake
OpenAI-compatible upstream), SDK clients, and a raw reader of the event stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
from starlette.applications import Starlette

from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

LOCAL = "smollm2-135m-instruct"
RELAYED = "fake-gpt"


def start(data_dir: Path) -> Iterator[tuple[RunningServer, Starlette]]:
    """The server and the fake upstream behind `RELAYED` (its requests in `state.requests`)."""
    upstream = create_app()
    with serve_asgi(upstream) as url:
        relay = {"provider": "openai_compat", "base_url": url + "/v1", "api_key": "sk-test-1"}
        config = {
            "models": [
                {"name": LOCAL, "channels": [{"provider": "local"}]},
                {"name": RELAYED, "channels": [{**relay, "upstream_model": "gpt-up"}]},
            ],
            "engine": {"slots": 2},
        }
        with run_server(data_dir, config=config) as server:
            yield server, upstream


def client(server: RunningServer, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=key or server.admin_key, max_retries=0)


def post(server: RunningServer, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or server.admin_key}"}
    return httpx.post(server.api_url + "/responses", json=body, headers=headers, timeout=120)


def raw_events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of a raw Responses stream, each checked to be well framed:
    `event: <type>` then `data: <json>` whose `type` is the same, then a blank line."""
    assert raw.endswith("\n\n") and "[DONE]" not in raw, raw[-200:]
    events = []
    for block in raw.removesuffix("\n\n").split("\n\n"):
        lines = block.split("\n")
        assert len(lines) == 2, block
        name, data = lines
        assert name.startswith("event: ") and data.startswith("data: "), block
        payload = json.loads(data.removeprefix("data: "))
        assert payload["type"] == name.removeprefix("event: "), block
        events.append((payload["type"], payload))
    assert [p["sequence_number"] for _, p in events] == list(range(len(events)))
    return events


def upstream_messages(upstream: Starlette) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = upstream.state.requests[-1]["body"]["messages"]
    return messages
