"""Retries before the first byte, error events after it, weights and circuit breakers.

Each model's first channel fails in one way (per-key faults of the fake OpenAI upstream); its
second channel (weight 0, so always tried last) is healthy.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.server import serve_asgi
from tests.routing.channels.conftest import COOLDOWN, Vendors

ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there"}]
ANSWER = "Echo: hello there"


def ask(sdk: openai.OpenAI, model: str) -> str | None:
    reply = sdk.chat.completions.create(model=model, messages=ASK)
    return reply.choices[0].message.content


def ask_streaming(sdk: openai.OpenAI, model: str) -> str:
    stream = sdk.chat.completions.create(
        model=model,
        messages=ASK,
        stream=True,
    )
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.parametrize(
    ("model", "primary_key"),
    [
        ("fallback-429", "sk-429"),
        ("fallback-500", "sk-500"),
        ("fallback-503", "sk-503"),
    ],
)
def test_falls_back_before_the_first_byte(
    sdk: openai.OpenAI, vendors: Vendors, model: str, primary_key: str
) -> None:
    before = len(vendors.openai_keys())
    assert ask(sdk, model) == ANSWER
    assert ask_streaming(sdk, model) == ANSWER
    tried = vendors.openai_keys()[before:]
    assert tried.count(primary_key) == 2 and tried.count("sk-test-2") == 2


def test_a_read_timeout_is_final_but_first_token_timeout_moves_on(
    sdk: openai.OpenAI, vendors: Vendors
) -> None:
    """The stalled request reached its upstream, which may still run and bill it: a read
    timeout is the answer (504). A stream's `first_token_timeout` is the operator's explicit
    rule to try the next channel when the first is slow, so it does."""
    before = len(vendors.openai_keys())
    with pytest.raises(openai.APIStatusError) as timed_out:
        ask(sdk, "fallback-timeout")
    assert timed_out.value.status_code == 504
    assert vendors.openai_keys()[before:] == ["sk-stall"]
    assert ask_streaming(sdk, "fallback-timeout") == ANSWER
    assert vendors.openai_keys()[before + 1 :] == ["sk-stall", "sk-test-2"]


def test_falls_back_when_connection_refused(sdk: openai.OpenAI, vendors: Vendors) -> None:
    before = len(vendors.openai_keys())
    assert ask(sdk, "fallback-refused") == ANSWER
    assert ask_streaming(sdk, "fallback-refused") == ANSWER
    assert vendors.openai_keys()[before:] == ["sk-test-2", "sk-test-2"]


def test_falls_back_across_vendors(sdk: openai.OpenAI, vendors: Vendors) -> None:
    claude_before = len(vendors.anthropic.state.requests)
    assert ask(sdk, "fallback-to-claude") == ANSWER
    assert ask_streaming(sdk, "fallback-to-claude") == ANSWER
    assert len(vendors.anthropic.state.requests) == claude_before + 2


@pytest.mark.parametrize(
    ("model", "text"),
    [
        ("ernie-busy", "ERNIE_BUSY now"),  # error_code 336100 inside an HTTP 200
        ("spark-busy", "SPARK_BUSY now"),  # header.code 10110 in a WebSocket frame
        ("claude-overloaded", "FAULT:529 now"),  # Anthropic's overloaded_error
        ("gemini-unavailable", "FAULT:503 now"),  # Gemini's UNAVAILABLE → Claude
    ],
)
def test_vendor_busy_errors_fall_back(sdk: openai.OpenAI, model: str, text: str) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": text}]
    reply = sdk.chat.completions.create(model=model, messages=messages)
    assert reply.choices[0].message.content == f"Echo: {text}"
    stream = sdk.chat.completions.create(model=model, messages=messages, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == f"Echo: {text}"


def test_all_channels_failing_returns_the_last_error(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        ask(sdk, "all-fail")
    assert info.value.status_code == 502
    assert "server had an error" in info.value.message


@pytest.mark.parametrize(
    ("model", "code", "message"),
    [
        # the upstream's own error event, passed on (it has no code)
        ("midstream", None, "The server had an error"),
        (
            "midstream-reset",
            "upstream_connection_error",
            "openai-compatible upstream cut its answer",
        ),
    ],
)
def test_error_after_first_byte_is_an_event(
    raw: httpx.Client, vendors: Vendors, model: str, code: str | None, message: str
) -> None:
    claude_before = len(vendors.anthropic.state.requests)
    body = {"model": model, "messages": ASK, "stream": True}
    with raw.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    error = events[-1]["error"]
    assert (error["type"], error["param"], error["code"]) == ("upstream_error", None, code), error
    assert error["message"].startswith(message), error
    assert len(vendors.anthropic.state.requests) == claude_before  # no retry after a byte


def test_sdk_raises_on_error_event(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="midstream",
        messages=ASK,
        stream=True,
    )
    with pytest.raises(openai.APIError) as raised:
        for _ in stream:
            pass
    # The SDK's own error for an `error` event: exactly APIError (not a status or connection
    # error), carrying the event's body.
    assert type(raised.value) is openai.APIError
    assert raised.value.message == "The server had an error"
    assert raised.value.body == {
        "message": "The server had an error",
        "type": "upstream_error",
        "param": None,
        "code": None,
    }


def test_weights_are_roughly_respected(sdk: openai.OpenAI, vendors: Vendors) -> None:
    before = len(vendors.openai_keys())
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: ask(sdk, "weighted"), range(240)))
    keys = vendors.openai_keys()[before:]
    heavy, light = keys.count("sk-w1"), keys.count("sk-w2")
    assert heavy + light == 240
    # 3:1 → 180 expected, σ ≈ 6.7: ±4.5σ fails a fair draw about once in 150,000 runs, and
    # an even split (120) by far
    assert 150 <= heavy <= 210


def test_circuit_opens_and_recovers(
    sdk: openai.OpenAI, admin: httpx.Client, vendors: Vendors
) -> None:
    faults = vendors.openai.state.key_faults

    def flaky() -> int:
        return vendors.openai_keys().count("sk-flaky")

    for _ in range(3):  # three failures among the last five open the breaker
        assert ask(sdk, "flaky") == ANSWER
    assert flaky() == 3
    state = {c["id"]: c for c in admin.get("/admin/channels").json()["data"]}
    assert state["flaky#0"]["state"] == "open" and state["flaky#1"]["state"] == "closed"
    for _ in range(3):  # skipped while open: straight to the healthy channel
        assert ask_streaming(sdk, "flaky") == ANSWER
    assert flaky() == 3
    del faults["sk-flaky"]  # the upstream recovers
    try:
        time.sleep(COOLDOWN + 0.1)
        assert ask(sdk, "flaky") == ANSWER  # the half-open probe succeeds...
        assert flaky() == 4
        assert ask(sdk, "flaky") == ANSWER  # ...and closes the breaker
        assert flaky() == 5
        state = {c["id"]: c for c in admin.get("/admin/channels").json()["data"]}
        assert state["flaky#0"]["state"] == "closed"
    finally:
        faults["sk-flaky"] = "500"


def test_failover_when_an_upstream_dies_mid_run(sdk: openai.OpenAI, vendors: Vendors) -> None:
    """Requests after the upstream died all fall back (they could not connect). A request it
    had already read when it died is not sent again: the vendor may have run it, so at most
    the few in flight then (4 at a time) end with a 502."""
    answered: list[str | None] = []
    some_done = threading.Event()

    def one(i: int) -> str | None:
        try:
            answer = ask_streaming(sdk, "failover") if i % 2 else ask(sdk, "failover")
        except openai.APIStatusError as exc:
            answer = f"{exc.status_code} {exc.body['code']}"  # type: ignore[index]
        answered.append(answer)
        if len(answered) >= 10:
            some_done.set()
        return answer

    with ExitStack() as victim, ThreadPoolExecutor(4) as pool:
        victim.enter_context(serve_asgi(vendors.victim, port=vendors.victim_port))
        futures = [pool.submit(one, i) for i in range(40)]
        assert some_done.wait(60)
        victim.close()  # the upstream dies while requests are still coming
        later = [pool.submit(one, i) for i in range(40, 50)]  # and after it died
        results = [f.result() for f in futures]
        after = [f.result() for f in later]
    assert after == [ANSWER] * 10
    cut = [r for r in results if r != ANSWER]
    assert len(cut) <= 4 and set(cut) <= {"502 upstream_connection_error"}
    served = len(vendors.victim.state.requests)
    assert 0 < served < 50


def test_channel_states_need_an_admin_key(admin: httpx.Client) -> None:
    response = admin.get("/admin/channels", headers={"Authorization": "Bearer sk-nope"})
    assert response.status_code == 401
    user_key = admin.post("/admin/keys", json={"name": "plain"}).json()["key"]
    response = admin.get("/admin/channels", headers={"Authorization": f"Bearer {user_key}"})
    assert response.status_code == 403
    ids = [c["id"] for c in admin.get("/admin/channels").json()["data"]]
    assert ids[:2] == ["gpt-4#0", "claude-2#0"] and "weighted#1" in ids
