"""Upstream faults from the fake OpenAI upstream behind a channel: before the first byte the
request fails over to the healthy channel; after it the client gets a readable error event
and `[DONE]`; every request is billed once with what it got; nothing is left hanging."""

from __future__ import annotations

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.ledger import usage_rows
from tests.support.server import RunningServer

PROMPT = "tell me four words"
ECHO_WORDS = len(f"Echo: {PROMPT}".split())


def _post(admin: httpx.Client, model: str, stream: bool) -> tuple[str, httpx.Response]:
    request_id = f"fault-{uuid.uuid4().hex[:12]}"
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    response = admin.post("/v1/chat/completions", json=body, headers={"X-Request-ID": request_id})
    return request_id, response


def _events(text: str) -> list[Any]:
    assert text.endswith("data: [DONE]\n\n"), text[-300:]
    payloads = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
    return [json.loads(p) for p in payloads[:-1]]


def _row(server: RunningServer, request_id: str) -> dict[str, Any]:
    rows = usage_rows(server.database_url, request_id)
    assert len(rows) == 1, rows
    return rows[0]


def _open_fds(server: RunningServer) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


# Faults that strike before anything reaches the client, for plain and streamed requests.
BEFORE_FIRST_BYTE = [
    ("fault-reset", False),  # the body drops halfway through
    ("fault-garbage", False),  # an HTML error page as the JSON body
    ("fault-429", False),
    ("fault-429", True),
    ("fault-stall", False),  # 30 s of silence; the channel gives up after 1 s
    ("fault-stall", True),  # headers, then silence before the first event
]
# Faults inside a stream, after its first event has gone out.
AFTER_FIRST_BYTE = ["fault-reset", "fault-garbage", "fault-truncate", "fault-midstream-error"]


@pytest.mark.parametrize(("model", "stream"), BEFORE_FIRST_BYTE)
def test_fault_before_the_first_byte_fails_over(
    hard_server: RunningServer, admin: httpx.Client, model: str, stream: bool
) -> None:
    started = time.monotonic()
    request_id, response = _post(admin, model, stream)
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 10  # the 30 s silence was cut short
    if stream:
        events = _events(response.text)
        text = "".join(
            e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"]
        )
        usage = events[-1]["usage"]
    else:
        text = response.json()["choices"][0]["message"]["content"]
        usage = response.json()["usage"]
    assert text == f"Echo: {PROMPT}"
    row = _row(hard_server, request_id)
    assert row["status"] == 200 and row["completion_tokens"] == usage["completion_tokens"]
    assert row["completion_tokens"] == ECHO_WORDS


@pytest.mark.parametrize("model", AFTER_FIRST_BYTE)
def test_fault_after_the_first_byte_is_a_readable_error_event(
    hard_server: RunningServer, admin: httpx.Client, model: str
) -> None:
    request_id, response = _post(admin, model, stream=True)
    assert response.status_code == 200
    events = _events(response.text)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    error = events[-1]["error"]
    assert error["message"] and error["type"]
    row = _row(hard_server, request_id)
    assert row["status"] >= 500, row  # billed as failed, with what was produced
    received = sum(
        len((e["choices"][0]["delta"].get("content") or "").split())
        for e in events
        if e.get("choices")
    )
    assert row["completion_tokens"] >= 0 and received <= ECHO_WORDS


def test_a_429_storm_is_absorbed_by_the_backup(
    hard_server: RunningServer, admin: httpx.Client, upstream: tuple[Starlette, str]
) -> None:
    app, _url = upstream
    before = len(app.state.requests)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: _post(admin, "fault-429", i % 2 == 0), range(24)))
    assert [r.status_code for _, r in results] == [200] * 24
    keys = [r["key"] for r in app.state.requests[before:]]
    assert keys.count("sk-backup") == 24 and keys.count("sk-429") >= 1
    for request_id, _ in results:
        assert _row(hard_server, request_id)["status"] == 200


def test_faults_leave_no_connections_or_work_behind(
    hard_server: RunningServer, admin: httpx.Client
) -> None:
    def round_of_faults() -> None:
        for model, stream in BEFORE_FIRST_BYTE:
            _post(admin, model, stream)
        for model in AFTER_FIRST_BYTE:
            _post(admin, model, True)

    round_of_faults()  # warm: pools and caches reach their size
    time.sleep(1.5)
    before = _open_fds(hard_server)
    for _ in range(3):
        round_of_faults()
    time.sleep(1.5)  # idle timeouts and keep-alives settle
    after = _open_fds(hard_server)
    assert after <= before + 4, (before, after)
    health = admin.get("/health").json()
    assert all(e["active"] == 0 and e["queued"] == 0 for e in health["engines"]), health
    request_id, response = _post(admin, "fake-gpt", stream=True)
    assert response.status_code == 200 and _row(hard_server, request_id)["status"] == 200
