"""`/v1/messages` translated for an OpenAI-compatible and a Gemini channel, through the
official `anthropic` SDK: answers, streams and tools (the tool's input survives the stream),
tool results sent back, system prompts folded into one leading system message."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from .conftest import GEMINI, GPT, Setup

WEATHER: Any = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "unit": {"type": "string"}},
    },
}
ASK: Any = [{"role": "user", "content": "call the weather tool"}]
TRANSLATED = pytest.mark.parametrize("model", [GPT, GEMINI])


def _upstream(setup: Setup, model: str) -> Any:
    return setup.upstreams.gpt if model == GPT else setup.upstreams.gemini


@TRANSLATED
def test_answer_and_stream(setup: Setup, model: str) -> None:
    client = setup.client()
    hello: Any = [{"role": "user", "content": "hello there"}]
    reply = client.messages.create(model=model, max_tokens=32, messages=hello)
    assert reply.model == model and reply.id.startswith("msg_")
    assert [b.type for b in reply.content] == ["text"]
    assert reply.content[0].text == "Echo: hello there" and reply.stop_reason == "end_turn"
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    with client.messages.stream(model=model, max_tokens=32, messages=hello) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: hello there" and final.content[0].text == text  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


@TRANSLATED
def test_tool_input_survives_sync_and_stream(setup: Setup, model: str) -> None:
    client = setup.client()
    reply = client.messages.create(model=model, max_tokens=128, tools=[WEATHER], messages=ASK)
    assert reply.stop_reason == "tool_use"
    calls = [b for b in reply.content if b.type == "tool_use"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    expected = calls[0].input
    assert isinstance(expected, dict) and expected.get("query") == "call the weather tool"
    assert all(b.type != "text" or b.text for b in reply.content)  # no empty text blocks
    with client.messages.stream(model=model, max_tokens=128, tools=[WEATHER], messages=ASK) as s:
        deltas = [e for e in s if e.type == "input_json"]
        final = s.get_final_message()
    streamed = [b for b in final.content if b.type == "tool_use"]
    assert len(streamed) == 1 and streamed[0].input == expected  # nothing lost on the way
    assert deltas and final.stop_reason == "tool_use"
    assert all(b.type != "text" or b.text for b in final.content)


@TRANSLATED
def test_tool_result_round_trip(setup: Setup, model: str) -> None:
    client = setup.client()
    reply = client.messages.create(model=model, max_tokens=128, tools=[WEATHER], messages=ASK)
    call = next(b for b in reply.content if b.type == "tool_use")
    follow: Any = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump() for b in reply.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "21C"}],
        },
    ]
    answer = client.messages.create(model=model, max_tokens=64, tools=[WEATHER], messages=follow)
    if model == GEMINI:  # its fake answers a function response (the OpenAI one does not)
        assert answer.content[0].type == "text" and "21C" in answer.content[0].text
        return
    sent = setup.upstreams.gpt.state.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    (asked,) = sent[1]["tool_calls"]
    assert asked["id"] == call.id and json.loads(asked["function"]["arguments"]) == call.input
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "21C"}


def test_system_prompts_become_one_leading_system_message(setup: Setup) -> None:
    messages: Any = [
        {"role": "user", "content": "hello"},
        {"role": "system", "content": "Late reminder."},  # newer Claude Code
        {"role": "assistant", "content": "hi"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "again"}, {"type": "text", "text": ""}],
        },
    ]
    system: Any = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    client = setup.client()
    reply = client.messages.create(model=GPT, max_tokens=32, system=system, messages=messages)
    assert reply.content[0].text == "Echo: again"  # type: ignore[union-attr]
    sent = setup.upstreams.gpt.state.requests[-1]["body"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][0]["content"] == "Be brief.\n\nLate reminder."
    assert sent["model"] == GPT + "-up" and sent["max_tokens"] == 32


def test_tool_choice_translates(setup: Setup) -> None:
    client = setup.client()
    hello: Any = [{"role": "user", "content": "hello"}]
    choice: Any = {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}
    reply = client.messages.create(
        model=GPT, max_tokens=64, tools=[WEATHER], tool_choice=choice, messages=hello
    )
    sent = setup.upstreams.gpt.state.requests[-1]["body"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False and reply.stop_reason == "tool_use"
    for kind, expected in [("any", "required"), ("none", "none"), ("auto", "auto")]:
        client.messages.create(
            model=GPT,
            max_tokens=8,
            tools=[WEATHER],
            tool_choice={"type": kind},
            messages=hello,  # type: ignore[misc]
        )
        assert setup.upstreams.gpt.state.requests[-1]["body"]["tool_choice"] == expected


def test_relay_only_content_is_refused_with_a_reason(setup: Setup) -> None:
    pdf: Any = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
    }
    messages: Any = [{"role": "user", "content": [pdf, {"type": "text", "text": "sum up"}]}]
    with pytest.raises(anthropic.BadRequestError) as refused:
        setup.client().messages.create(model=GPT, max_tokens=8, messages=messages)
    assert refused.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "documents with a 'base64' source" in refused.value.message
    text_doc: Any = {"type": "document", "source": {"type": "text", "data": "Plain notes."}}
    ok: Any = [{"role": "user", "content": [text_doc, {"type": "text", "text": "sum up"}]}]
    setup.client().messages.create(model=GPT, max_tokens=8, messages=ok)
    sent = setup.upstreams.gpt.state.requests[-1]["body"]["messages"]
    assert sent == [{"role": "user", "content": "Plain notes.\nsum up"}]
