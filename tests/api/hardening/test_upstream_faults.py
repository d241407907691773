"""Upstream faults from the fake OpenAI upstream behind a channel: before the first byte a
fault that says another channel may succeed (429, a stream's first-token timeout) fails over
to the healthy channel, while one after the request was sent (a dropped body, an unreadable
answer, a read timeout) is the answer and is never sent again; after the first byte the client
gets a readable error event and `[DONE]`; every request is billed once with what it got;
nothing is left hanging."""

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


# Faults that strike before anything reaches the client and fail over to the backup channel.
FAILS_OVER = [
    ("fault-429", False),
    ("fault-429", True),
    ("fault-stall", True),  # headers, then silence: the first-token timeout tries the next
]
# Faults after the request was sent, before anything reached the client: the upstream may have
# run (and billed) it, so it is not sent again. (model, key, status, code)
FINAL = [
    ("fault-reset", "sk-reset", 502, "upstream_connection_error"),  # the body drops halfway
    ("fault-garbage", "sk-garbage", 502, "upstream_malformed_response"),  # an HTML page
    ("fault-stall", "sk-stall", 504, "upstream_timeout"),  # 30 s of silence; read timeout 1 s
]
# Faults inside a stream, after its first event has gone out: (model, the text the client got
# before the fault, the error event's code, the code the ledger books).
AFTER_FIRST_BYTE = [
    ("fault-reset", "", "upstream_connection_error", "upstream_connection_error"),
    ("fault-garbage", "", "upstream_malformed_response", "upstream_malformed_response"),
    ("fault-truncate", "Echo:", "upstream_malformed_response", "upstream_malformed_response"),
    # the upstream's own error event carries no code: the ledger books its type
    ("fault-midstream-error", "", None, "upstream_error"),
]


def _estimate(text: str) -> int:
    """The gateway's estimate where the upstream reported no usage: four characters a token,
    rounded up."""
    return -(-len(text) // 4)


@pytest.mark.parametrize(("model", "stream"), FAILS_OVER)
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


@pytest.mark.parametrize(("model", "key", "status", "code"), FINAL, ids=[f[0] for f in FINAL])
def test_fault_after_sending_is_the_answer_and_not_sent_again(
    hard_server: RunningServer,
    admin: httpx.Client,
    upstream: tuple[Starlette, str],
    model: str,
    key: str,
    status: int,
    code: str,
) -> None:
    app, _url = upstream
    before = len(app.state.requests)
    started = time.monotonic()
    request_id, response = _post(admin, model, stream=False)
    assert time.monotonic() - started < 10  # the 30 s silence was cut short
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("upstream_error", code), error
    assert [r["key"] for r in app.state.requests[before:]] == [key]  # no backup call
    row = _row(hard_server, request_id)
    assert (row["status"], row["error_code"]) == (status, code), row
    assert (row["prompt_tokens"], row["completion_tokens"]) == (0, 0)  # nothing came back


@pytest.mark.parametrize(
    ("model", "received", "event_code", "booked_code"),
    AFTER_FIRST_BYTE,
    ids=[m for m, *_ in AFTER_FIRST_BYTE],
)
def test_fault_after_the_first_byte_is_a_readable_error_event(
    hard_server: RunningServer,
    admin: httpx.Client,
    model: str,
    received: str,
    event_code: str | None,
    booked_code: str,
) -> None:
    request_id, response = _post(admin, model, stream=True)
    assert response.status_code == 200
    events = _events(response.text)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events if e.get("choices")
    )
    assert text == received  # what the fake upstream sent before it failed, and no more
    error = events[-1]["error"]
    assert error["type"] == "upstream_error" and error["code"] == event_code, error
    assert error["message"], error
    row = _row(hard_server, request_id)
    # Billed as failed, with what was produced: the upstream reported no usage, so both sides
    # are the gateway's estimate (the prompt, and the text that reached the client).
    assert (row["status"], row["error_code"], row["estimated"]) == (502, booked_code, True), row
    assert row["prompt_tokens"] == _estimate(PROMPT) == 5
    assert row["completion_tokens"] == _estimate(received)
    assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"]


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
        for model, stream in FAILS_OVER:
            _post(admin, model, stream)
        for model, *_ in FINAL:
            _post(admin, model, False)
        for model, *_ in AFTER_FIRST_BYTE:
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
