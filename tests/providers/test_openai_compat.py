"""The OpenAI-compatible adapter against a fake OpenAI-protocol upstream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from modelport.protocol.chat_response import ChatCompletionChunk
from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.settings import ChannelConfig
from tests.fakes.server import free_port

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
def provider(deps: ProviderDeps) -> OpenAICompatProvider:
    return OpenAICompatProvider(deps)


@pytest.fixture
def channel(openai_url: str) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat",
        base_url=openai_url,
        api_keys=["sk-test-1", "sk-test-2"],
        upstream_model="gpt-upstream",
        read_timeout=5,
    )


def last_body(app: Any) -> dict[str, Any]:
    body: dict[str, Any] = app.state.requests[-1]["body"]
    return body


async def test_complete_text(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    result = await provider.complete(chat("hello there"), channel)
    assert result.choices[0].message.content == "Echo: hello there"
    assert result.choices[0].finish_reason == "stop"
    assert result.model == "gpt-upstream"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (2, 3)
    assert result.usage.total_tokens == 5


async def test_model_replaced_and_keys_rotate(
    provider: OpenAICompatProvider, channel: ChannelConfig, openai_app: Any
) -> None:
    await provider.complete(chat("one"), channel)
    await provider.complete(chat("two"), channel)
    used = [r["key"] for r in openai_app.state.requests[-2:]]
    assert sorted(used) == ["sk-test-1", "sk-test-2"]
    assert last_body(openai_app)["model"] == "gpt-upstream"


async def test_unknown_fields_and_extra_body_pass_through(
    provider: OpenAICompatProvider, channel: ChannelConfig, openai_app: Any
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = chat(
        "hi",
        temperature=0.3,
        repetition_penalty=1.1,
        extra_body={"guided_choice": ["x", "y"], "nested": {"deep": [1, 2]}},
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        seed=7,
        messages=[{"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}],
    )
    await provider.complete(request, channel)
    body = last_body(openai_app)
    assert body["repetition_penalty"] == 1.1
    assert body["extra_body"] == {"guided_choice": ["x", "y"], "nested": {"deep": [1, 2]}}
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert body["tools"] == [WEATHER_TOOL]
    assert body["tool_choice"] == "auto"
    assert body["seed"] == 7 and body["temperature"] == 0.3
    assert body["messages"][0]["cache_control"] == {"type": "ephemeral"}
    assert "stream_options" not in body and body["stream"] is False


async def test_platform_fields_stay_home(
    provider: OpenAICompatProvider, channel: ChannelConfig, openai_app: Any
) -> None:
    request = chat(
        "hi",
        with_search_enhance=True,
        knowledge_base={"ids": ["kb1"]},
        tools=[{"type": "retrieval", "retrieval": {"kb_ids": ["kb2"]}}],
    )
    await provider.complete(request, channel)
    body = last_body(openai_app)
    assert not {"with_search_enhance", "knowledge_base", "tools"} & body.keys()


async def test_stream_text_with_usage(
    provider: OpenAICompatProvider, channel: ChannelConfig, openai_app: Any
) -> None:
    stream = provider.stream(chat("stream me please", stream=True), channel)
    chunks, end = await collect_with_end(stream)
    assert streamed_text(chunks) == "Echo: stream me please"
    assert finish_reasons(chunks) == ["stop"]
    assert end.usage.completion_tokens == 4 and not end.estimated
    assert all(c.usage is None and c.choices for c in chunks)
    assert last_body(openai_app)["stream_options"] == {"include_usage": True}


async def test_tools_complete(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    result = await provider.complete(chat("call the weather", tools=[WEATHER_TOOL]), channel)
    call = result.choices[0].message.tool_calls
    assert call is not None and call[0].function.name == "get_weather"
    assert json.loads(call[0].function.arguments)["query"] == "call the weather"
    assert result.choices[0].finish_reason == "tool_calls"


async def test_streamed_tool_arguments_reassemble(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    request = chat("please call it", tools=[WEATHER_TOOL], stream=True)
    chunks = await collect(provider.stream(request, channel))
    calls = streamed_tool_calls(chunks)
    assert list(calls) == [0]
    assert calls[0]["id"] == "call_fake0" and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {
        "query": "please call it",
        "unit": "celsius",
        "limit": 3,
    }
    assert sum(1 for c in chunks for ch in c.choices if ch.delta.tool_calls) > 5
    assert finish_reasons(chunks) == ["tool_calls"]


async def test_legacy_functions(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    functions = [WEATHER_TOOL["function"]]
    result = await provider.complete(chat("call now", functions=functions), channel)
    assert result.choices[0].message.function_call is not None
    assert result.choices[0].finish_reason == "function_call"
    chunks = await collect(provider.stream(chat("call now", functions=functions), channel))
    assert streamed_function_call(chunks)["name"] == "get_weather"
    assert finish_reasons(chunks) == ["function_call"]


async def test_max_tokens_and_stop(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    cut = await provider.complete(chat("a b c d e", max_tokens=2), channel)
    assert cut.choices[0].message.content == "Echo: a"
    assert cut.choices[0].finish_reason == "length"
    stopped = await provider.complete(chat("a b STOP c", stop="STOP"), channel)
    assert stopped.choices[0].message.content == "Echo: a b "
    assert stopped.choices[0].finish_reason == "stop"


async def test_n_choices_stream(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    chunks, end = await collect_with_end(provider.stream(chat("x y", n=2), channel))
    assert streamed_text(chunks, 0) == streamed_text(chunks, 1) == "Echo: x y"
    assert end.usage.completion_tokens == 6


async def test_auth_failure(provider: OpenAICompatProvider, channel: ChannelConfig) -> None:
    bad = channel.model_copy(update={"api_keys": [], "api_key": None})
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi"), bad)
    assert info.value.code == "invalid_api_key" and info.value.status == 400
    assert "Incorrect API key" in info.value.message
    assert not info.value.retryable


@pytest.mark.parametrize(
    ("fault", "status", "code", "retryable"),
    # an unreadable answer is not retried: the upstream ran (and billed) the request
    [
        ("429", 429, "rate_limit_exceeded", True),
        ("500", 502, None, True),
        ("503", 502, None, True),
        ("garbage", 502, "upstream_malformed_response", False),
    ],
)
async def test_upstream_failures(
    provider: OpenAICompatProvider,
    channel: ChannelConfig,
    fault: str,
    status: int,
    code: str | None,
    retryable: bool,
) -> None:
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat(f"FAULT:{fault}"), channel)
    with pytest.raises(UpstreamError) as streamed:
        await collect(provider.stream(chat(f"FAULT:{fault}", stream=True), channel))
    for error in (info.value, streamed.value):
        assert (error.status, error.code, error.retryable) == (status, code, retryable)
        assert error.headers == ({"Retry-After": "2"} if fault == "429" else {})


async def test_bad_request_is_not_retryable(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    request = chat("hi")
    request.messages[0].role = "narrator"  # type: ignore[assignment]
    with pytest.raises(UpstreamError) as info:
        await provider.complete(request, channel)
    assert info.value.status == 400 and not info.value.retryable
    assert info.value.param == "messages[0].role"


@pytest.mark.parametrize(
    ("fault", "code", "message"),
    [
        (
            "truncate",
            "upstream_malformed_response",
            "openai-compatible upstream sent a malformed response: "
            "the stream ended before the completion finished",
        ),
        (
            "reset",
            "upstream_connection_error",
            "openai-compatible upstream cut its answer short "
            "(or sent one that could not be decoded)",
        ),
        ("midstream-error", None, "The server had an error"),
    ],
)
async def test_broken_streams(
    provider: OpenAICompatProvider,
    channel: ChannelConfig,
    fault: str,
    code: str | None,
    message: str,
) -> None:
    request = chat(f"FAULT:{fault}", tools=[WEATHER_TOOL] if fault == "truncate" else None)
    with pytest.raises(UpstreamError) as info:
        await collect(provider.stream(request, channel))
    error = info.value
    assert (error.status, error.code, error.message, error.retryable) == (
        502,
        code,
        message,
        False,
    )


async def test_reset_and_unreachable(
    provider: OpenAICompatProvider, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as reset:
        await provider.complete(chat("FAULT:reset"), channel)
    # the request was written before the connection dropped: never sent again
    assert not reset.value.retryable and reset.value.status == 502
    gone = channel.model_copy(
        update={"base_url": f"http://127.0.0.1:{free_port()}/v1", "connect_timeout": 1}
    )
    with pytest.raises(UpstreamError) as unreachable:
        await collect(provider.stream(chat("hi"), gone))
    assert unreachable.value.code == "upstream_connection_error" and unreachable.value.retryable


async def test_abandoned_stream_closes_the_upstream(
    provider: OpenAICompatProvider, channel: ChannelConfig, openai_app: Any
) -> None:
    stream = provider.stream(chat("FAULT:slow"), channel)
    chunks: list[ChatCompletionChunk] = []
    while streamed_text(chunks) != "..":  # the fake sends a dot, then waits, then another
        chunks += [item for item in await anext(stream) if isinstance(item, ChatCompletionChunk)]
    await stream.aclose()  # what the chat service does when its client disconnects
    for _ in range(200):
        if openai_app.state.abandoned:
            break
        await asyncio.sleep(0.01)
    assert openai_app.state.abandoned == [True]
