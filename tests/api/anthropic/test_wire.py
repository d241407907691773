"""The Messages wire itself, read as raw bytes: every stream in the published event order
(local, relayed and translated), errors in Anthropic's envelope with the right statuses, and
the traps other gateways fell into (empty text blocks beside thinking, tool input lost when a
call's arguments come in the chunk that names it)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelport.messages.stream import EventBuilder
from modelport.protocol.chat_response import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ToolCallDelta,
    Usage,
)

from .conftest import CLAUDE, GEMINI, GPT, LOCAL, Setup

WEATHER = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
}


def parse(raw: bytes) -> list[dict[str, Any]]:
    """The events of a stream; each frame is `event: <type>` then `data: <json of that type>`."""
    assert b"[DONE]" not in raw and raw.endswith(b"\n\n")
    events = []
    for frame in raw.decode().split("\n\n")[:-1]:
        name_line, data_line = frame.split("\n")
        name, data = name_line.removeprefix("event: "), json.loads(data_line.removeprefix("data: "))
        assert name_line.startswith("event: ") and data["type"] == name
        events.append(data)
    return events


def assert_published_order(events: list[dict[str, Any]]) -> None:
    """message_start; per block: start, deltas of its kind, stop (indices 0, 1, ...);
    message_delta with the stop reason and usage; message_stop. Pings anywhere."""
    kinds = [e for e in events if e["type"] != "ping"]
    assert kinds[0]["type"] == "message_start" and kinds[0]["message"]["content"] == []
    assert [e["type"] for e in kinds[-2:]] == ["message_delta", "message_stop"]
    final = kinds[-2]
    assert final["delta"]["stop_reason"] and "output_tokens" in final["usage"]
    allowed = {
        "text": {"text_delta"},
        "thinking": {"thinking_delta", "signature_delta"},
        "tool_use": {"input_json_delta"},
    }
    index, open_block = -1, None
    for event in kinds[1:-2]:
        if event["type"] == "content_block_start":
            assert open_block is None and event["index"] == index + 1
            index, open_block = event["index"], event["content_block"]["type"]
        elif event["type"] == "content_block_delta":
            assert event["index"] == index and event["delta"]["type"] in allowed[open_block or ""]
        else:
            assert event == {"type": "content_block_stop", "index": index} and open_block
            open_block = None
    assert open_block is None


def _stream(setup: Setup, body: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {"x-api-key": setup.server.admin_key, "anthropic-version": "2023-06-01"}
    with httpx.stream(
        "POST",
        setup.server.base_url + "/v1/messages",
        json={**body, "stream": True},
        headers=headers,
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse(response.read())


ASK = [{"role": "user", "content": "call the weather tool"}]


@pytest.mark.parametrize(
    ("model", "extra", "blocks"),
    [
        (LOCAL, {}, ["text"]),
        (GPT, {"tools": [WEATHER]}, ["tool_use"]),
        (GEMINI, {"tools": [WEATHER]}, ["tool_use"]),
        (CLAUDE, {"tools": [WEATHER]}, ["text", "tool_use"]),
        (CLAUDE, {"thinking": {"type": "enabled", "budget_tokens": 1024}}, ["thinking", "text"]),
    ],
)
def test_streams_keep_the_published_order(
    setup: Setup, model: str, extra: dict[str, Any], blocks: list[str]
) -> None:
    events = _stream(setup, {"model": model, "max_tokens": 64, "messages": ASK, **extra})
    assert_published_order(events)
    assert events[0]["message"]["model"] == model
    started = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert started == blocks
    texts = [
        e
        for e in events
        if e["type"] == "content_block_start" and e["content_block"]["type"] == "text"
    ]
    for start in texts:  # no text block without text
        assert any(
            e["type"] == "content_block_delta"
            and e["index"] == start["index"]
            and e["delta"]["text"]
            for e in events
        )


def _post(setup: Setup, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(
        setup.server.base_url + "/v1/messages",
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers=headers,
        timeout=60,
    )


def test_errors_in_anthropic_envelope(setup: Setup) -> None:
    key = setup.server.admin_key
    good = {"model": LOCAL, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
    cases = [
        (_post(setup, good), 401, "authentication_error"),
        (_post(setup, good, **{"x-api-key": "sk-wrong-key-123456"}), 401, "authentication_error"),
        (_post(setup, {**good, "model": "nope"}, **{"x-api-key": key}), 404, "not_found_error"),
        (_post(setup, b"{oops", **{"x-api-key": key}), 400, "invalid_request_error"),
        (
            _post(
                setup, {k: v for k, v in good.items() if k != "max_tokens"}, **{"x-api-key": key}
            ),
            400,
            "invalid_request_error",
        ),
        (
            _post(setup, {**good, "temperature": 1.5}, **{"x-api-key": key}),
            400,
            "invalid_request_error",
        ),
        (
            _post(setup, {**good, "tool_choice": {"type": "any"}}, **{"x-api-key": key}),
            400,
            "invalid_request_error",
        ),
    ]
    for response, status, kind in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["type"] == "error" and set(body) == {"type", "error"}
        assert body["error"]["type"] == kind and body["error"]["message"]
    admin = {"Authorization": f"Bearer {key}"}
    created = httpx.post(
        setup.server.base_url + "/admin/keys",
        json={"name": "t", "owner": "o", "allowed_models": [GPT]},
        headers=admin,
        timeout=30,
    ).json()
    denied = _post(setup, good, **{"x-api-key": created["key"]})
    assert denied.status_code == 403 and denied.json()["error"]["type"] == "permission_error"


def _chunk(delta: Delta, finish: Any = None) -> ChatCompletionChunk:
    choice = ChunkChoice(index=0, delta=delta, finish_reason=finish)
    return ChatCompletionChunk(id="c", created=0, model="m", choices=[choice])


def test_translated_thinking_and_whole_tool_call_in_one_chunk() -> None:
    """Reasoning then a call whose name and whole arguments come in one chunk (as Gemini's
    and some vLLM parsers' do): no empty text block, and the input is the first delta."""
    builder = EventBuilder("m")
    call = ToolCallDelta(
        index=0,
        id="call_1",
        type="function",
        function=FunctionCallDelta(name="get_weather", arguments='{"query": "Paris"}'),
    )
    events = builder.start(5)
    events += builder.chunk(_chunk(Delta(role="assistant", content="")))
    events += builder.chunk(_chunk(Delta(reasoning_content="Think.")))
    events += builder.chunk(_chunk(Delta(tool_calls=[call])))
    events += builder.chunk(_chunk(Delta(), finish="tool_calls"))
    events += builder.end(Usage.of(5, 7))
    raw = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
    parsed = parse(raw)
    assert_published_order(parsed)
    starts = [e["content_block"] for e in parsed if e["type"] == "content_block_start"]
    assert starts == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}},
    ]
    deltas = [e["delta"] for e in parsed if e["type"] == "content_block_delta"]
    assert deltas[-1] == {"type": "input_json_delta", "partial_json": '{"query": "Paris"}'}
    assert parsed[-2]["delta"]["stop_reason"] == "tool_use"
    assert parsed[-2]["usage"] == {"input_tokens": 5, "output_tokens": 7}
