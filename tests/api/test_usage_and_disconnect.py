"""Every request leaves a usage record; an abandoned stream stops at once and is billed exactly."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from tests.support.ledger import usage_rows
from tests.support.server import RunningServer

MODEL = "smollm2-135m-instruct"


def _headers(server: RunningServer, request_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_key}", "X-Request-ID": request_id}


def test_sync_request_is_recorded_with_its_usage(any_server: RunningServer) -> None:
    request_id = "test-" + uuid.uuid4().hex
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    started = time.monotonic()
    response = httpx.post(
        any_server.api_url + "/chat/completions",
        json=body,
        headers=_headers(any_server, request_id),
        timeout=60,
    )
    elapsed_ms = (time.monotonic() - started) * 1000
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id
    usage = response.json()["usage"]
    (row,) = usage_rows(any_server.database_url, request_id)
    assert row["status"] == 200 and row["model"] == MODEL and not row["stream"]
    assert row["prompt_tokens"] == usage["prompt_tokens"]
    assert row["completion_tokens"] == usage["completion_tokens"] == 4
    # The server's own time for it: some, and within what the client waited.
    assert 0 < row["latency_ms"] <= elapsed_ms


def test_completed_stream_is_recorded(any_server: RunningServer) -> None:
    request_id = "test-" + uuid.uuid4().hex
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 5,
        "stream": True,
    }
    with httpx.stream(
        "POST",
        any_server.api_url + "/chat/completions",
        json=body,
        headers=_headers(any_server, request_id),
        timeout=60,
    ) as response:
        text = response.read().decode()
    assert text.endswith("data: [DONE]\n\n")
    finish = json.loads(text.split("data: ")[-2])  # the finish chunk, which carries the usage
    assert finish["choices"][0]["finish_reason"] == "length"
    (row,) = usage_rows(any_server.database_url, request_id)
    assert row["status"] == 200 and row["stream"] and row["completion_tokens"] == 5
    assert row["prompt_tokens"] == finish["usage"]["prompt_tokens"]


def _engine_active(server: RunningServer) -> int:
    engines = httpx.get(server.base_url + "/health", timeout=5).json()["engines"]
    return sum(e["active"] for e in engines)


def test_abandoned_stream_stops_and_bills_what_was_produced(any_server: RunningServer) -> None:
    prompt = [{"role": "user", "content": "Write a long essay."}]
    finished = httpx.post(
        any_server.api_url + "/chat/completions",
        json={"model": MODEL, "messages": prompt, "max_tokens": 1},
        headers=_headers(any_server, "test-" + uuid.uuid4().hex),
        timeout=60,
    )
    assert finished.status_code == 200, finished.text
    request_id = "test-" + uuid.uuid4().hex
    body = {
        "model": MODEL,
        "messages": prompt,
        "max_tokens": 500,
        "stream": True,
        "logit_bias": {"2": -100},
    }
    received = 0
    with httpx.stream(
        "POST",
        any_server.api_url + "/chat/completions",
        json=body,
        headers=_headers(any_server, request_id),
        timeout=60,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content"' in line:
                received += 1
                if received == 4:
                    break
    left_at = time.monotonic()
    while _engine_active(any_server) and time.monotonic() - left_at < 3:
        time.sleep(0.02)
    assert _engine_active(any_server) == 0, "generation kept going after the client left"
    (row,) = usage_rows(any_server.database_url, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"
    # Exactly what the engine produced: at least what we saw, far less than max_tokens.
    assert received - 1 <= row["completion_tokens"] < 100
    assert row["prompt_tokens"] == finished.json()["usage"]["prompt_tokens"]  # the whole prompt
