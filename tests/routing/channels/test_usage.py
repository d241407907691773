"""Usage booked for upstream streams: what the vendor reports, or an estimate when it cannot."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.routing.channels.conftest import Vendors


def _entry(raw: httpx.Client, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in raw.get("/usage/requests", params={"limit": 50}).json()["data"]:
            if entry["request_id"] == request_id:
                return dict(entry)
        time.sleep(0.1)
    raise AssertionError(f"{request_id} never reached the ledger")


def test_a_client_leaving_an_upstream_stream_is_billed_for_what_was_sent(
    raw: httpx.Client, vendors: Vendors
) -> None:
    body = {"model": "gpt-4", "messages": [{"role": "user", "content": "FAULT:slow"}]}
    with raw.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
        request_id = response.headers["x-request-id"]
        received = 0
        for line in response.iter_lines():
            received += line.startswith("data: ")
            if received == 40:
                break  # leave after 40 chunks of the 500 the upstream would send
    entry = _entry(raw, request_id)
    assert entry["status"] == 499 and entry["error_code"] == "client_disconnected"
    # One "." per chunk, four characters a token: at least the 40 seen, far fewer than 500.
    assert 10 <= entry["completion_tokens"] <= 60
    assert entry["prompt_tokens"] == 3  # "FAULT:slow": 10 characters
    assert entry["estimated"] is True


def test_reported_usage_is_booked_as_is(raw: httpx.Client) -> None:
    body = {"model": "claude-2", "messages": [{"role": "user", "content": "hello there"}]}
    with raw.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
        request_id = response.headers["x-request-id"]
        for _ in response.iter_lines():
            pass
    entry = _entry(raw, request_id)
    assert entry["status"] == 200 and entry["completion_tokens"] == 3  # "Echo: hello there"
    assert entry["estimated"] is False
