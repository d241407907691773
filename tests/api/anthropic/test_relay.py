"""`/v1/messages` relayed to an Anthropic channel, through the official `anthropic` SDK: the
client's body reaches the vendor as sent (model mapped; thinking signatures, `cache_control`,
tool ids intact; `role: "system"` messages moved into `system`) and the vendor's answer comes
back as it was (thinking with its signature, cache usage, tool input, stop reason)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from .conftest import CLAUDE, Setup

THINKING = {"type": "enabled", "budget_tokens": 1024}
SYSTEM = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
HISTORY: list[Any] = [
    {"role": "user", "content": "first question"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Earlier thoughts.", "signature": "sig-earlier=="},
            {"type": "text", "text": "first answer"},
        ],
    },
    {
        "role": "user",
        "content": [{"type": "text", "text": "why so", "cache_control": {"type": "ephemeral"}}],
    },
]
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
}


def _sent(setup: Setup) -> dict[str, Any]:
    body: dict[str, Any] = setup.upstreams.claude.state.requests[-1]["body"]
    return body


def test_thinking_and_cache_control_reach_the_vendor_and_come_back(setup: Setup) -> None:
    reply = setup.client().messages.create(
        model=CLAUDE,
        max_tokens=2048,
        thinking=THINKING,
        system=SYSTEM,
        messages=HISTORY,  # type: ignore[arg-type]
    )
    sent = _sent(setup)
    assert sent["model"] == CLAUDE + "-up" and sent["stream"] is False
    assert sent["system"] == SYSTEM and sent["thinking"] == THINKING
    assert sent["messages"] == HISTORY  # the earlier thinking block, signature and all
    assert reply.model == CLAUDE and reply.id == "msg_fakethinking"
    thinking, text = reply.content
    assert thinking.type == "thinking" and thinking.signature == "sig-why-so"
    assert thinking.thinking == "The user said why so."
    assert text.type == "text" and text.text == "Echo: why so"
    assert reply.usage.cache_creation_input_tokens == 11
    assert reply.usage.cache_read_input_tokens == 7 and reply.usage.input_tokens == 9


def test_streamed_thinking_keeps_its_signature(setup: Setup) -> None:
    client = setup.client()
    with client.messages.stream(
        model=CLAUDE,
        max_tokens=2048,
        thinking=THINKING,
        system=SYSTEM,
        messages=HISTORY,  # type: ignore[arg-type]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert _sent(setup)["stream"] is True and _sent(setup)["messages"] == HISTORY
    assert "thinking" in kinds and "signature" in kinds and "text" in kinds
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.signature == "sig-why-so"
    assert thinking.thinking.strip() == "The user said why so."
    assert text.type == "text" and text.text == "Echo: why so"
    assert final.model == CLAUDE and final.usage.cache_read_input_tokens == 7


def test_system_messages_move_into_system(setup: Setup) -> None:
    messages: list[Any] = [
        {"role": "system", "content": "Reminder: be kind."},
        {"role": "user", "content": "hello"},
        {"role": "system", "content": [{"type": "text", "text": "Late note."}]},
        {"role": "user", "content": "again"},
    ]
    reply = setup.client().messages.create(
        model=CLAUDE,
        max_tokens=64,
        system="Be brief.",
        messages=messages,  # type: ignore[arg-type]
    )
    sent = _sent(setup)
    assert [b["text"] for b in sent["system"]] == ["Be brief.", "Reminder: be kind.", "Late note."]
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "again"}],
        }
    ]
    assert reply.content[0].type == "text" and reply.content[0].text == "Echo: hello again"


def test_tools_sync_stream_and_result(setup: Setup) -> None:
    client = setup.client()
    ask: list[Any] = [{"role": "user", "content": "call the weather tool"}]
    choice: Any = {"type": "tool", "name": "get_weather"}
    reply = client.messages.create(
        model=CLAUDE,
        max_tokens=256,
        tools=[WEATHER],
        tool_choice=choice,
        messages=ask,  # type: ignore[list-item]
    )
    assert _sent(setup)["tools"] == [WEATHER] and _sent(setup)["tool_choice"] == choice
    assert reply.stop_reason == "tool_use"
    call = next(b for b in reply.content if b.type == "tool_use")
    expected = {"query": "call the weather tool", "unit": "celsius", "limit": 3}
    assert call.id == "toolu_fake0" and call.name == "get_weather" and call.input == expected
    with client.messages.stream(
        model=CLAUDE,
        max_tokens=256,
        tools=[WEATHER],
        tool_choice=choice,
        messages=ask,  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_message()
    streamed = next(b for b in final.content if b.type == "tool_use")
    assert streamed.input == expected and final.stop_reason == "tool_use"
    follow: list[Any] = [
        *ask,
        {"role": "assistant", "content": [b.model_dump() for b in reply.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "21C"}],
        },
    ]
    answer = client.messages.create(model=CLAUDE, max_tokens=64, tools=[WEATHER], messages=follow)  # type: ignore[list-item]
    assert answer.content[0].type == "text" and answer.content[0].text == "Result: 21C"


def test_vendor_errors_in_anthropic_shape(setup: Setup) -> None:
    client = setup.client()
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(
            model=CLAUDE, max_tokens=8, messages=[{"role": "user", "content": "FAULT:429"}]
        )
    assert limited.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": limited.value.body["error"]["message"]},  # type: ignore[index]
    }
    faulty: list[Any] = [{"role": "user", "content": "FAULT:stream-overloaded"}]
    stream = client.messages.stream(model=CLAUDE, max_tokens=8, messages=faulty)
    with pytest.raises(anthropic.APIStatusError) as overloaded, stream as events:
        list(events)  # an error event after the 200
    assert "Overloaded" in str(overloaded.value)
