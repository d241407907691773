"""The Anthropic adapter against a fake Messages API that validates like the real one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk, Usage
from modelport.providers.anthropic.adapter import AnthropicProvider, ClaudeStreamReader
from modelport.providers.anthropic.convert import messages_to_claude, request_to_claude
from modelport.providers.anthropic.options import AnthropicOptions
from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.sse import ServerSentEvent
from modelport.providers.stream import StreamEnd
from modelport.settings import ChannelConfig

from .helpers import (
    WEATHER_TOOL,
    chat,
    collect,
    collect_with_end,
    finish_reasons,
    streamed_function_call,
    streamed_text,
    streamed_tool_calls,
)


@pytest.fixture
def provider(deps: ProviderDeps) -> AnthropicProvider:
    return AnthropicProvider(deps)


@pytest.fixture
def channel(anthropic_url: str) -> ChannelConfig:
    return ChannelConfig(
        provider="anthropic",
        base_url=anthropic_url,
        api_keys=["sk-ant-test-1", "sk-ant-test-2"],
        upstream_model="claude-fake",
        read_timeout=5,
    )


def last(app: Any) -> dict[str, Any]:
    record: dict[str, Any] = app.state.requests[-1]
    return record


async def test_complete_text_and_request_shape(
    provider: AnthropicProvider, channel: ChannelConfig, anthropic_app: Any
) -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "public",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "Answer in English."},
                {"role": "user", "content": "hello"},
                {"role": "user", "content": [{"type": "text", "text": "there"}]},
            ],
            "top_k": 5,
            "temperature": 0.5,
            "user": "u-1",
        }
    )
    result = await provider.complete(request, channel)
    assert result.choices[0].message.content == "Echo: hello there"
    assert result.choices[0].finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 3)
    sent = last(anthropic_app)
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    body = sent["body"]
    assert body["system"] == "Be brief.\n\nAnswer in English."
    assert body["model"] == "claude-fake" and body["max_tokens"] == 4096
    assert body["top_k"] == 5 and body["metadata"] == {"user_id": "u-1"}
    assert len(body["messages"]) == 1  # the two user turns were merged


async def test_stream_text(provider: AnthropicProvider, channel: ChannelConfig) -> None:
    stream = provider.stream(chat("stream this now", stream=True), channel)
    chunks, end = await collect_with_end(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert streamed_text(chunks) == "Echo: stream this now"
    assert finish_reasons(chunks) == ["stop"]
    assert end == StreamEnd(Usage.of(3, 4))  # reported by Anthropic, not estimated
    assert all(c.usage is None and c.choices for c in chunks)  # usage travels in the end only
    assert {c.id for c in chunks} == {"msg_fake01"} and {c.model for c in chunks} == {"claude-fake"}


async def test_default_output_limit_from_options(
    provider: AnthropicProvider, anthropic_url: str, anthropic_app: Any
) -> None:
    options = {"max_tokens": 2}
    limited = ChannelConfig(
        provider="anthropic", base_url=anthropic_url, api_key="sk-ant-test-1", options=options
    )
    cut = await provider.complete(chat("a b c d"), limited)
    assert last(anthropic_app)["body"]["max_tokens"] == 2
    assert cut.choices[0].message.content == "Echo: a"
    assert cut.choices[0].finish_reason == "length"
    await provider.complete(chat("a b c d", max_tokens=3), limited)  # the client's own wins
    assert last(anthropic_app)["body"]["max_tokens"] == 3


def test_options_are_typed() -> None:
    assert AnthropicProvider.Options is AnthropicOptions
    channel = ChannelConfig(provider="anthropic", options={"max_tokens": "1024"})
    assert channel.typed_options(AnthropicOptions) == AnthropicOptions(max_tokens=1024)
    assert ChannelConfig(provider="anthropic").typed_options(AnthropicOptions).max_tokens is None
    misspelt = ChannelConfig(provider="anthropic", options={"max_token": 5})
    with pytest.raises(ValidationError):  # stops the catalogue from loading
        misspelt.typed_options(AnthropicOptions)


async def test_max_tokens_and_stop_sequences(
    provider: AnthropicProvider, channel: ChannelConfig, anthropic_app: Any
) -> None:
    cut = await provider.complete(chat("a b c d", max_completion_tokens=2), channel)
    assert cut.choices[0].message.content == "Echo: a"
    assert cut.choices[0].finish_reason == "length"
    chunks = await collect(provider.stream(chat("a b END c", stop=["END"]), channel))
    assert last(anthropic_app)["body"]["stop_sequences"] == ["END"]
    assert streamed_text(chunks) == "Echo: a b "
    assert finish_reasons(chunks) == ["stop"]


async def test_tools_complete(
    provider: AnthropicProvider, channel: ChannelConfig, anthropic_app: Any
) -> None:
    result = await provider.complete(chat("call weather", tools=[WEATHER_TOOL]), channel)
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name) == ("toolu_fake0", "get_weather")
    assert json.loads(call.function.arguments)["query"] == "call weather"
    tool = last(anthropic_app)["body"]["tools"][0]
    assert tool["input_schema"] == WEATHER_TOOL["function"]["parameters"]  # type: ignore[index]
    assert last(anthropic_app)["body"]["tool_choice"] == {"type": "auto"}


async def test_streamed_tool_calls_reassemble(
    provider: AnthropicProvider, channel: ChannelConfig
) -> None:
    request = chat("call it twice", tools=[WEATHER_TOOL], stream=True)
    chunks = await collect(provider.stream(request, channel))
    calls = streamed_tool_calls(chunks)
    assert sorted(calls) == [0, 1]  # block indexes 1 and 2 become tool call indexes 0 and 1
    assert [calls[i]["id"] for i in (0, 1)] == ["toolu_fake0", "toolu_fake1"]
    assert json.loads(calls[1]["arguments"]) == {
        "query": "call it twice",
        "unit": "celsius",
        "limit": 4,
    }
    assert streamed_text(chunks) == "Let me check."
    assert finish_reasons(chunks) == ["tool_calls"]


async def test_tool_round_trip(provider: AnthropicProvider, channel: ChannelConfig) -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "public",
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": False,
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "toolu_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"q": 1}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "toolu_a", "content": "sunny 21C"},
            ],
        }
    )
    result = await provider.complete(request, channel)
    assert result.choices[0].message.content == "Result: sunny 21C"


def test_tool_choice_and_legacy_conversion() -> None:
    system, turns = messages_to_claude(
        chat(
            "x",
            messages=[
                {"role": "user", "content": "go"},
                {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
                {"role": "function", "name": "f", "content": "done"},
                {"role": "user", "content": "and?"},
            ],
        ).messages
    )
    assert system is None
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"][0] == {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}
    assert turns[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "call_1",
        "content": "done",
    }
    assert turns[2]["content"][1] == {"type": "text", "text": "and?"}


async def test_legacy_functions(
    provider: AnthropicProvider, channel: ChannelConfig, anthropic_app: Any
) -> None:
    functions = [WEATHER_TOOL["function"]]
    result = await provider.complete(chat("call twice", functions=functions), channel)
    assert result.choices[0].finish_reason == "function_call"
    assert result.choices[0].message.function_call is not None
    assert last(anthropic_app)["body"]["tool_choice"]["disable_parallel_tool_use"] is True
    chunks = await collect(provider.stream(chat("call", functions=functions), channel))
    assert streamed_function_call(chunks)["arguments"]["unit"] == "celsius"
    assert finish_reasons(chunks) == ["function_call"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
    ],
)
async def test_refuses_unsupported(
    provider: AnthropicProvider, channel: ChannelConfig, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi", **fields), channel)
    assert (info.value.status, info.value.param) == (400, param)
    assert info.value.code == "unsupported_parameter" and not info.value.retryable


async def test_auth_failure(provider: AnthropicProvider, channel: ChannelConfig) -> None:
    with pytest.raises(UpstreamError) as info:
        bad = ChannelConfig(provider="anthropic", base_url=channel.base_url, api_key="nope")
        await provider.complete(chat("hi"), bad)
    assert info.value.message == "invalid x-api-key"
    assert info.value.code == "upstream_auth_failed" and not info.value.retryable


async def test_upstream_validation_error_surfaces(
    provider: AnthropicProvider, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi", temperature=1.5), channel)
    assert info.value.status == 400 and "temperature" in info.value.message
    assert not info.value.retryable


MALFORMED = "Anthropic sent a malformed response: "
CUT = MALFORMED + "the stream ended before message_stop"


@pytest.mark.parametrize(
    ("fault", "status", "code", "retryable"),
    [
        # Anthropic's status says another channel may succeed
        ("429", 429, "rate_limit_exceeded", True),
        ("500", 502, "upstream_error", True),
        ("529", 502, "upstream_overloaded", True),
        # the request reached Anthropic, which ran (and billed) it: never sent again
        ("garbage", 502, "upstream_malformed_response", False),
        ("reset", 502, "upstream_connection_error", False),
    ],
)
async def test_failures(
    provider: AnthropicProvider,
    channel: ChannelConfig,
    fault: str,
    status: int,
    code: str,
    retryable: bool,
) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat(f"FAULT:{fault}"), channel)
    errors = [info.value]
    if retryable:  # failing statuses fail a stream the same way, before any output
        with pytest.raises(UpstreamError) as streamed:
            await collect(provider.stream(chat(f"FAULT:{fault}", stream=True), channel))
        errors.append(streamed.value)
    elif fault == "garbage":
        assert info.value.message == MALFORMED + "invalid JSON"
    for error in errors:
        assert (error.status, error.code, error.retryable) == (status, code, retryable)
        assert error.headers == ({"Retry-After": "3"} if fault == "429" else {})


@pytest.mark.parametrize(
    ("fault", "code", "message"),
    [
        ("truncate", "upstream_malformed_response", CUT),
        ("garbage", "upstream_malformed_response", MALFORMED + "invalid JSON"),
        (
            "reset",
            "upstream_connection_error",
            "Anthropic cut its answer short (or sent one that could not be decoded)",
        ),
        ("stream-overloaded", "upstream_overloaded", "Overloaded"),  # an `error` event
    ],
)
async def test_broken_streams(
    provider: AnthropicProvider, channel: ChannelConfig, fault: str, code: str, message: str
) -> None:
    stream = provider.stream(chat(f"FAULT:{fault}", stream=True), channel)
    first = (await anext(stream))[0]
    assert isinstance(first, ChatCompletionChunk) and first.choices[0].delta.role == "assistant"
    with pytest.raises(UpstreamError) as info:
        await collect(stream)
    assert (info.value.status, info.value.code) == (502, code)
    assert not info.value.retryable  # message_start was yielded
    assert info.value.message == message


def _event(data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(str(data["type"]), json.dumps(data))


def test_reader_usage_and_end() -> None:
    reader = ClaudeStreamReader(chat("x"), "claude-fake")
    usage = {"input_tokens": 5, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3}
    start = {"id": "msg_1", "usage": {**usage, "output_tokens": 1}}
    [role] = reader.read(_event({"type": "message_start", "message": start}))
    assert isinstance(role, ChatCompletionChunk) and role.id == "msg_1"
    assert reader.read(_event({"type": "ping"})) == []
    assert reader.read(_event({"type": "some_future_event", "x": 1})) == []
    with pytest.raises(UpstreamError) as early:
        reader.close()
    assert (early.value.code, early.value.retryable) == ("upstream_malformed_response", False)
    # a late input count replaces the first (cache reads and writes are prompt tokens too)
    late = {"input_tokens": 7, "cache_read_input_tokens": 4, "output_tokens": 9}
    delta = {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": late}
    assert reader.read(_event(delta)) == [] and not reader.done
    [finish] = reader.read(_event({"type": "message_stop"}))
    assert isinstance(finish, ChatCompletionChunk) and finish.usage is None
    assert finish.choices[0].finish_reason == "length" and reader.done
    assert reader.close() == [StreamEnd(Usage.of(11, 9, cached=4))]  # cache reads: cached


def test_reader_error_events() -> None:
    reader = ClaudeStreamReader(chat("x"), "claude-fake")
    with pytest.raises(UpstreamError) as not_object:
        reader.read(ServerSentEvent("message_start", "[1, 2]"))
    assert not_object.value.message == MALFORMED + "a stream event is not a JSON object"
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    with pytest.raises(UpstreamError) as limited:
        reader.read(_event(error))
    # before any output the vendor's own status decides: a rate limit may go elsewhere
    error_seen = (limited.value.status, limited.value.message, limited.value.retryable)
    assert error_seen == (429, "slow down", True)


def test_images_tool_choice_none_and_parallel_results() -> None:
    pixel = "data:image/png;base64,iVBORw0KGgo="
    request = chat(
        "x",
        tools=[WEATHER_TOOL],
        tool_choice="none",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": pixel}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Checking both.",
                "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "t2", "type": "function", "function": {"name": "f", "arguments": ""}},
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "one"},
            {"role": "tool", "tool_call_id": "t2", "content": "two"},
        ],
    )
    body = request_to_claude(request, ChannelConfig(provider="anthropic"), stream=False)
    assert body["tool_choice"] == {"type": "none"}
    user, assistant, results = body["messages"]
    assert user["content"][1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }
    assert user["content"][2]["source"] == {"type": "url", "url": "https://example.com/a.png"}
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert assistant["content"][2]["input"] == {}
    assert [b["tool_use_id"] for b in results["content"]] == ["t1", "t2"]


def test_invalid_tool_arguments_are_a_client_error() -> None:
    request = chat(
        "x",
        messages=[
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{"}}
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "one"},
        ],
    )
    with pytest.raises(UpstreamError) as info:
        request_to_claude(request, ChannelConfig(provider="anthropic"), stream=False)
    assert (info.value.status, info.value.param) == (400, "messages[1]")


async def test_channel_without_key(provider: AnthropicProvider, channel: ChannelConfig) -> None:
    keyless = ChannelConfig(provider="anthropic", base_url=channel.base_url)
    with pytest.raises(UpstreamError) as info:
        await collect(provider.stream(chat("hi"), keyless))
    assert info.value.code == "channel_misconfigured" and info.value.retryable
