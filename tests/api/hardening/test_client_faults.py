"""Clients that leave at every phase of a stream: before the first token, mid-stream, and
around the usage chunk. Generation stops (the engine goes idle, an upstream stream is closed),
the request is billed once with exactly what was produced, and nothing piles up."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.ledger import usage_rows
from tests.support.server import RunningServer

from .conftest import LOCAL_MODEL

LONG = {"max_tokens": 300, "logit_bias": {"2": -100}}  # no end-of-text: it would run on


def _body(model: str, prompt: str, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": prompt}]
    return {"model": model, "messages": messages, "stream": True, **extra}


def _idle(server: RunningServer, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        engines = httpx.get(server.base_url + "/health", timeout=5).json()["engines"]
        if all(e["active"] == 0 and e["queued"] == 0 for e in engines):
            return True
        time.sleep(0.02)
    return False


def _row(server: RunningServer, request_id: str) -> dict[str, Any]:
    rows = usage_rows(server.database_url, request_id)
    assert len(rows) == 1, rows
    return rows[0]


def _raw_request(server: RunningServer, body: dict[str, Any], request_id: str) -> socket.socket:
    payload = json.dumps(body).encode()
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {server.admin_key}\r\nX-Request-ID: {request_id}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    sock.sendall(head.encode() + payload)
    return sock


def _leave_after(server: RunningServer, body: dict[str, Any], seconds: float) -> str:
    """Send `body`, close the connection `seconds` later; the request's id."""
    request_id = f"cf-{uuid.uuid4().hex[:12]}"
    sock = _raw_request(server, body, request_id)
    time.sleep(seconds)
    sock.close()
    return request_id


def _prompt_tokens(admin: httpx.Client, prompt: str) -> int:
    """The prompt's token count, as a finished one-token answer to it reports."""
    body = {**_body(LOCAL_MODEL, prompt), "stream": False, "max_tokens": 1}
    response = admin.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    tokens: int = response.json()["usage"]["prompt_tokens"]
    return tokens


def test_leaving_before_the_first_token(hard_server: RunningServer, admin: httpx.Client) -> None:
    prompt_tokens = _prompt_tokens(admin, "Write a long story.")
    request_id = f"cf-{uuid.uuid4().hex[:12]}"
    sock = _raw_request(hard_server, _body(LOCAL_MODEL, "Write a long story.", **LONG), request_id)
    sock.close()  # gone before the response even started
    # The prefill runs (a loaded machine may take seconds), then the first step notices.
    assert _idle(hard_server), "generation kept going for nobody"
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"
    assert row["prompt_tokens"] == prompt_tokens and row["completion_tokens"] < 30


def test_leaving_mid_stream(hard_server: RunningServer, admin: httpx.Client) -> None:
    request_id = f"cf-{uuid.uuid4().hex[:12]}"
    body = _body(LOCAL_MODEL, "Write a long story.", **LONG)
    received = 0
    with admin.stream(
        "POST", "/v1/chat/completions", json=body, headers={"X-Request-ID": request_id}
    ) as response:
        for line in response.iter_lines():
            if '"content"' in line:
                received += 1
                if received == 5:
                    break
    assert _idle(hard_server), "generation kept going after the client left"
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"
    # Exactly what the engine produced: what we saw (the first is the role) and no more
    # than the few steps before the disconnect was noticed.
    assert received - 1 <= row["completion_tokens"] < received + 30


@pytest.mark.parametrize("include_usage", [False, True])
def test_leaving_at_the_usage_chunk(
    hard_server: RunningServer, admin: httpx.Client, include_usage: bool
) -> None:
    request_id = f"cf-{uuid.uuid4().hex[:12]}"
    body = _body(
        LOCAL_MODEL,
        "Count to twenty.",
        max_tokens=6,
        logit_bias={"2": -100},
        stream_options={"include_usage": include_usage},
    )
    usage = None
    with admin.stream(
        "POST", "/v1/chat/completions", json=body, headers={"X-Request-ID": request_id}
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and '"usage":{' in line:
                usage = json.loads(line[6:])["usage"]
                break  # leave with the usage in hand, before [DONE]
    assert usage is not None and usage["completion_tokens"] == 6
    assert _idle(hard_server)
    row = _row(hard_server, request_id)
    # The usage travels in the stream's last write, with `[DONE]`: the answer was complete.
    assert (row["status"], row["error_code"]) == (200, None), row
    assert (row["prompt_tokens"], row["completion_tokens"]) == (usage["prompt_tokens"], 6)


def test_leaving_an_upstream_stream_closes_it(
    hard_server: RunningServer, admin: httpx.Client, upstream: tuple[Starlette, str]
) -> None:
    app, _url = upstream
    before = len(app.state.abandoned)
    request_id = f"cf-{uuid.uuid4().hex[:12]}"
    body = _body("fake-gpt", "FAULT:slow")
    with admin.stream(
        "POST", "/v1/chat/completions", json=body, headers={"X-Request-ID": request_id}
    ) as response:
        for i, _line in enumerate(response.iter_lines()):
            if i == 10:
                break
    deadline = time.monotonic() + 3
    while len(app.state.abandoned) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.abandoned[before:] == [True], "the upstream stream was left open"
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"


def test_many_leavers_leave_nothing_behind(hard_server: RunningServer) -> None:
    fds = f"/proc/{hard_server.process.pid}/fd"

    def burst() -> list[str]:
        ids = []
        for i in range(6):
            request_id = f"cf-burst-{uuid.uuid4().hex[:10]}"
            body = _body(LOCAL_MODEL, f"Story number {i}.", **LONG)
            sock = _raw_request(hard_server, body, request_id)
            if i % 2:
                sock.recv(1)  # wait for the response to start, then leave
            sock.close()
            ids.append(request_id)
        return ids

    burst()
    assert _idle(hard_server, within=20)
    before = len(os.listdir(fds))
    ids = burst()
    assert _idle(hard_server, within=20)
    time.sleep(0.5)
    assert len(os.listdir(fds)) <= before + 4
    for request_id in ids:
        row = _row(hard_server, request_id)
        assert row["status"] == 499 and row["completion_tokens"] < 60, row


def test_leaving_during_a_long_prefill_stops_it(hard_server: RunningServer) -> None:
    """Before the stream has started there is no response to notice the client by: the
    request is still being answered, and leaving cancels that (the prompt here takes several
    seconds to prefill; the engine is idle long before)."""
    body = _body(LOCAL_MODEL, "tell me more " * 500, max_tokens=200, logit_bias={"2": -100})
    request_id = _leave_after(hard_server, body, 0.3)
    assert _idle(hard_server, within=4.0), "the prefill went on for nobody"
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"
    assert row["completion_tokens"] == 0 and row["prompt_tokens"] > 1000


def test_leaving_a_non_stream_answer_stops_it(hard_server: RunningServer) -> None:
    body = {**_body(LOCAL_MODEL, "Write a long story."), "stream": False}
    body.update(max_tokens=1000, logit_bias={"2": -100})  # some 14 s of decoding here
    request_id = _leave_after(hard_server, body, 0.5)
    assert _idle(hard_server, within=4.0), "the answer went on being made for nobody"
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected"


@pytest.mark.parametrize("stream", [False, True])
def test_leaving_while_an_upstream_is_silent_stops_the_call(
    hard_server: RunningServer, stream: bool
) -> None:
    """The upstream says nothing (its channel would give up after 1 s with a 504): a client
    that leaves at 0.3 s ends the call then, and the request is booked as abandoned, not as
    the upstream's timeout."""
    body = {**_body("stall-only", "Anything."), "stream": stream}
    request_id = _leave_after(hard_server, body, 0.3)
    row = _row(hard_server, request_id)
    assert row["status"] == 499 and row["error_code"] == "client_disconnected", row
    assert row["latency_ms"] < 900  # booked when the client left, before the read timeout
