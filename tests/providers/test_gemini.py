"""The Gemini adapter against a fake Gemini API that validates like a protobuf endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk
from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.gemini import GeminiProvider
from modelport.providers.gemini.adapter import GeminiReader
from modelport.providers.gemini.convert import schema_to_gemini
from modelport.providers.sse import ServerSentEvent
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
def provider(deps: ProviderDeps) -> GeminiProvider:
    return GeminiProvider(deps)


@pytest.fixture
def channel(gemini_url: str) -> ChannelConfig:
    return ChannelConfig(
        provider="gemini",
        base_url=gemini_url,
        api_keys=["gm-test-1", "gm-test-2"],
        upstream_model="gemini-fake",
        read_timeout=5,
    )


def last(app: Any) -> dict[str, Any]:
    record: dict[str, Any] = app.state.requests[-1]
    return record


async def test_complete_text_and_request_shape(
    provider: GeminiProvider, channel: ChannelConfig, gemini_app: Any
) -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "public",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hello there"},
            ],
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 7,
            "seed": 3,
            "presence_penalty": 0.1,
            "max_tokens": 50,
        }
    )
    result = await provider.complete(request, channel)
    assert result.choices[0].message.content == "Echo: hello there"
    assert result.choices[0].finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 3)
    sent = last(gemini_app)
    assert sent["model"] == "gemini-fake"
    assert sent["body"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["body"]["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "topK": 7,
        "maxOutputTokens": 50,
        "seed": 3,
        "presencePenalty": 0.1,
    }


async def test_stream_text_and_candidates(provider: GeminiProvider, channel: ChannelConfig) -> None:
    stream = provider.stream(chat("one two three four", n=2), channel)
    chunks, end = await collect_with_end(stream)
    assert streamed_text(chunks, 0) == streamed_text(chunks, 1) == "Echo: one two three four"
    assert finish_reasons(chunks) == ["stop", "stop"]
    assert all(c.usage is None and c.choices for c in chunks)
    usage = end.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 10, 14)
    assert not end.estimated


async def test_finish_reasons(provider: GeminiProvider, channel: ChannelConfig) -> None:
    cut = await provider.complete(chat("a b c d", max_tokens=2), channel)
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("Echo: a", "length")
    stopped = await provider.complete(chat("a b STOP c", stop=["STOP"]), channel)
    assert stopped.choices[0].message.content == "Echo: a b "
    unsafe = await provider.complete(chat("something unsafe"), channel)
    assert unsafe.choices[0].finish_reason == "content_filter"
    blocked, end = await collect_with_end(provider.stream(chat("blockprompt"), channel))
    assert finish_reasons(blocked) == ["content_filter"]
    assert (end.usage.prompt_tokens, end.usage.completion_tokens, end.estimated) == (1, 2, False)


async def test_json_mode(provider: GeminiProvider, channel: ChannelConfig, gemini_app: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["string", "null"]}},
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    await provider.complete(chat("hi", response_format=fmt), channel)
    config = last(gemini_app)["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"] == {
        "type": "object",
        "properties": {"a": {"type": "string", "nullable": True}},
    }


async def test_tools_complete(
    provider: GeminiProvider, channel: ChannelConfig, gemini_app: Any
) -> None:
    tool = json.loads(json.dumps(WEATHER_TOOL))
    tool["function"]["parameters"]["additionalProperties"] = False  # Gemini would reject it
    result = await provider.complete(
        chat("call weather", tools=[tool], tool_choice="auto"), channel
    )
    calls = result.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments)["query"] == "call weather"
    assert calls[0].id.startswith("call_")
    assert result.choices[0].finish_reason == "tool_calls"
    body = last(gemini_app)["body"]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"


async def test_streamed_tool_call_and_forced_choice(
    provider: GeminiProvider, channel: ChannelConfig, gemini_app: Any
) -> None:
    forced = {"type": "function", "function": {"name": "get_weather"}}
    chunks = await collect(
        provider.stream(chat("hi", tools=[WEATHER_TOOL], tool_choice=forced), channel)
    )
    calls = streamed_tool_calls(chunks)
    assert json.loads(calls[0]["arguments"]) == {"query": "hi", "unit": "celsius", "limit": 3}
    assert finish_reasons(chunks) == ["tool_calls"]
    config = last(gemini_app)["body"]["toolConfig"]["functionCallingConfig"]
    assert config == {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}


async def test_tool_round_trip(provider: GeminiProvider, channel: ChannelConfig) -> None:
    request = ChatCompletionRequest.model_validate(
        {
            "model": "public",
            "tools": [WEATHER_TOOL],
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"q": 1}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_a", "content": '{"temp": 21}'},
            ],
        }
    )
    result = await provider.complete(request, channel)
    assert result.choices[0].message.content == 'Result: {"temp": 21}'


async def test_legacy_functions(provider: GeminiProvider, channel: ChannelConfig) -> None:
    functions = [WEATHER_TOOL["function"]]
    result = await provider.complete(chat("call it", functions=functions), channel)
    assert result.choices[0].message.function_call is not None
    assert result.choices[0].finish_reason == "function_call"
    chunks = await collect(provider.stream(chat("call it", functions=functions), channel))
    assert streamed_function_call(chunks)["arguments"]["query"] == "call it"
    assert finish_reasons(chunks) == ["function_call"]


def test_schema_to_gemini_keeps_nested_structure() -> None:
    schema = {
        "type": "object",
        "properties": {
            "xs": {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}}
        },
        "required": ["xs"],
        "strict": True,
    }
    assert schema_to_gemini(schema) == {
        "type": "object",
        "properties": {"xs": {"type": "array", "items": {"type": "integer"}}},
        "required": ["xs"],
    }


async def test_auth_failures(provider: GeminiProvider, channel: ChannelConfig) -> None:
    bad = ChannelConfig(provider="gemini", base_url=channel.base_url, api_key="wrong")
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi"), bad)
    assert info.value.message == "API key not valid. Please pass a valid API key."
    assert info.value.code == "upstream_auth_failed" and not info.value.retryable
    keyless = ChannelConfig(provider="gemini", base_url=channel.base_url)
    with pytest.raises(UpstreamError) as missing:
        await provider.complete(chat("hi"), keyless)
    assert missing.value.code == "channel_misconfigured"


async def test_refusals(provider: GeminiProvider, channel: ChannelConfig) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi", logprobs=True), channel)
    assert (info.value.status, info.value.param) == (400, "logprobs")
    image = [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]
    with pytest.raises(UpstreamError) as remote:
        await provider.complete(chat("x", messages=[{"role": "user", "content": image}]), channel)
    assert remote.value.code == "unsupported_parameter"


@pytest.mark.parametrize(
    ("fault", "status", "code", "retryable"),
    [
        ("429", 429, "rate_limit_exceeded", True),
        ("500", 502, "upstream_error", True),
        ("503", 502, "upstream_overloaded", True),
        # the request reached Gemini (which may have run and billed it): never sent again
        ("garbage", 502, "upstream_malformed_response", False),
        # a body cut short: the connection dropped after the request was sent
        ("reset", 502, "upstream_connection_error", False),
    ],
)
async def test_failures(
    provider: GeminiProvider,
    channel: ChannelConfig,
    fault: str,
    status: int,
    code: str,
    retryable: bool,
) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat(f"FAULT:{fault}"), channel)
    assert (info.value.status, info.value.code, info.value.retryable) == (status, code, retryable)
    # Only a rate limit tells the client when to come back.
    assert info.value.headers == ({"Retry-After": "4"} if fault == "429" else {})


@pytest.mark.parametrize("fault", ["truncate", "garbage", "reset"])
async def test_broken_streams(provider: GeminiProvider, channel: ChannelConfig, fault: str) -> None:
    stream = provider.stream(chat(f"FAULT:{fault} and some more words"), channel)
    with pytest.raises(UpstreamError) as info:
        await collect(stream)
    error = info.value
    code = "upstream_connection_error" if fault == "reset" else "upstream_malformed_response"
    assert (error.status, error.code, error.retryable) == (502, code, False)


def event(data: dict[str, Any]) -> ServerSentEvent:
    return ServerSentEvent(None, json.dumps(data))


def test_reader_error_event() -> None:
    reader = GeminiReader(chat("hi"), "gemini-fake")
    error = {"code": 429, "message": "Slow down.", "status": "RESOURCE_EXHAUSTED"}
    with pytest.raises(UpstreamError) as info:
        reader.read(event({"error": error}))
    got = info.value
    assert (got.status, got.code, got.message, got.retryable) == (
        429,
        "rate_limit_exceeded",
        "Slow down.",
        True,
    )


def test_reader_end_without_usage() -> None:
    reader = GeminiReader(chat("hi"), "gemini-fake")
    candidate = {"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP", "index": 0}
    items = reader.read(event({"candidates": [candidate]}))
    assert [type(item) for item in items] == [ChatCompletionChunk] * 3
    assert finish_reasons([i for i in items if isinstance(i, ChatCompletionChunk)]) == ["stop"]
    assert reader.done is False
    assert reader.close() == []  # ProviderStream estimates the usage


def test_reader_end_before_finish() -> None:
    reader = GeminiReader(chat("hi", n=2), "gemini-fake")
    candidates = [
        {"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP", "index": 0},
        {"content": {"parts": [{"text": "Hi"}]}, "index": 1},
    ]
    reader.read(event({"candidates": candidates, "usageMetadata": {"promptTokenCount": 1}}))
    with pytest.raises(UpstreamError) as info:
        reader.close()
    assert (info.value.code, info.value.retryable) == ("upstream_malformed_response", False)
