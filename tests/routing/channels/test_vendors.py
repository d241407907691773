"""Every vendor through the whole HTTP path: the official SDK in, the fake vendor behind."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from tests.routing.channels.conftest import Vendors

WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["query"],
        },
    },
}
VENDORS = {
    "gpt-4": "Echo: hello there",
    "claude-2": "Echo: hello there",
    "gemini-pro": "Echo: hello there",
    "ernie-bot": "You said: hello there",
    "spark-v3.5": "You said: hello there",
}
ASK: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello there"}]
CALL: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "please call the weather tool for Paris"}
]


def _reported(model: str) -> tuple[int, int, int]:
    """The usage every fake vendor reports: a token per word ("hello there" is 2)."""
    completion = len(VENDORS[model].split())
    return 2, completion, 2 + completion


def _tokens(usage: Any) -> tuple[int, int, int]:
    return usage.prompt_tokens, usage.completion_tokens, usage.total_tokens


@pytest.mark.parametrize("model", VENDORS)
def test_sync(sdk: openai.OpenAI, model: str) -> None:
    reply = sdk.chat.completions.create(model=model, messages=ASK)
    assert reply.model == model
    assert reply.choices[0].message.content == VENDORS[model]
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert _tokens(reply.usage) == _reported(model)


@pytest.mark.parametrize("model", VENDORS)
def test_stream(sdk: openai.OpenAI, model: str) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model=model,
            messages=ASK,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == VENDORS[model]
    assert len({c.id for c in chunks}) == 1 and all(c.model == model for c in chunks)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and finishes.count("stop") == 1
    assert not chunks[-1].choices and chunks[-1].usage is not None
    assert _tokens(chunks[-1].usage) == _reported(model)


def _streamed_call(chunks: list[Any]) -> tuple[str, str, int]:
    """(name, arguments, number of argument fragments) reassembled like an OpenAI client."""
    name, arguments, fragments = "", "", 0
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                assert delta.index == 0
                if delta.function is not None:
                    name += delta.function.name or ""
                    if delta.function.arguments:
                        arguments += delta.function.arguments
                        fragments += 1
    return name, arguments, fragments


@pytest.mark.parametrize("model", VENDORS)
def test_tools_sync_and_streamed_arguments(sdk: openai.OpenAI, model: str) -> None:
    reply = sdk.chat.completions.create(
        model=model,
        messages=CALL,
        tools=[WEATHER],
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    expected = json.loads(call.function.arguments)
    assert "Paris" in expected["query"]

    chunks = list(
        sdk.chat.completions.create(
            model=model,
            messages=CALL,
            tools=[WEATHER],
            stream=True,
        )
    )
    name, arguments, fragments = _streamed_call(chunks)
    assert name == "get_weather"
    assert json.loads(arguments) == expected  # nothing lost between fragments
    assert fragments >= 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_openai_streams_arguments_in_many_fragments(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model="gpt-4",
            messages=CALL,
            tools=[WEATHER],
            stream=True,
        )
    )
    name, arguments, fragments = _streamed_call(chunks)
    assert name == "get_weather" and fragments > 5 and json.loads(arguments)["unit"] == "celsius"


def test_legacy_functions_through_claude(raw: httpx.Client) -> None:
    body = {
        "model": "claude-2",
        "messages": CALL,
        "functions": [WEATHER["function"]],
        "function_call": {"name": "get_weather"},
    }
    reply = raw.post("/chat/completions", json=body).json()
    message = reply["choices"][0]["message"]
    assert reply["choices"][0]["finish_reason"] == "function_call"
    assert message["function_call"]["name"] == "get_weather"
    assert "Paris" in json.loads(message["function_call"]["arguments"])["query"]


def test_raw_sse_frames(raw: httpx.Client) -> None:
    body = {"model": "claude-2", "messages": ASK, "stream": True}
    with raw.stream("POST", "/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    last = events[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["usage"]["completion_tokens"] == len(VENDORS["claude-2"].split())


def test_unknown_fields_reach_openai_compatible_upstream(
    sdk: openai.OpenAI, vendors: Vendors
) -> None:
    extra = {"top_k": 7, "repetition_penalty": 1.1, "guided_json": {"type": "object"}}
    sdk.chat.completions.create(
        model="gpt-4",
        messages=ASK,
        tools=[WEATHER],
        tool_choice="none",
        seed=11,
        extra_body=extra,
    )
    sent = vendors.openai.state.requests[-1]["body"]
    assert sent["model"] == "gpt-4-upstream"  # the alias maps; nothing else is dropped
    assert {k: sent[k] for k in extra} == extra
    assert sent["tools"] == [WEATHER] and sent["tool_choice"] == "none" and sent["seed"] == 11


def test_keys_rotate_across_a_channel(sdk: openai.OpenAI, vendors: Vendors) -> None:
    for _ in range(4):
        sdk.chat.completions.create(model="gpt-4", messages=ASK)
    assert set(vendors.openai_keys()[-4:]) == {"sk-test-1", "sk-test-2"}


def test_vendor_refusal_is_a_clear_400(sdk: openai.OpenAI, vendors: Vendors) -> None:
    before = len(vendors.gemini.state.requests)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(
            model="gemini-pro",
            messages=ASK,
            logprobs=True,
        )
    assert info.value.status_code == 400 and "log probabilities" in info.value.message
    assert len(vendors.gemini.state.requests) == before


def test_models_lists_catalogue_with_owners(sdk: openai.OpenAI) -> None:
    owners = {m.id: m.owned_by for m in sdk.models.list()}
    assert owners["gpt-4"] == "openai" and owners["claude-2"] == "anthropic"
    assert owners["ernie-bot"] == "baidu" and owners["spark-v3.5"] == "iflytek"
    assert owners["gemini-pro"] == "google" and owners["weighted"] == "modelport"
    assert sdk.models.retrieve("claude-2").owned_by == "anthropic"


def test_finished_streams_leave_the_upstream_connection_open(
    sdk: openai.OpenAI, vendors: Vendors
) -> None:
    list(sdk.chat.completions.create(model="gpt-4", messages=ASK))
    before = {r["peer"] for r in vendors.openai.state.requests}
    for _ in range(5):
        list(sdk.chat.completions.create(model="gpt-4", messages=ASK, stream=True))
    fresh = {r["peer"] for r in vendors.openai.state.requests[-5:]} - before
    # Pooled connections are reused, not one opened per stream. (Under heavy load the short
    # wait for the body's end after [DONE] may lapse once; then that connection is closed.)
    assert len(fresh) <= 1, fresh
