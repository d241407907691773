"""The Spark adapter against a fake that authenticates and frames answers the way iFlytek does,
and against scripted WebSocket servers for the failures the fake cannot stage."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import (
    AssistantMessage,
    ChatCompletionChunk,
    Choice,
    FunctionCallOut,
    Usage,
)
from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.registry import ChannelConfigError, ProviderRegistry
from modelport.providers.spark import SparkProvider
from modelport.providers.spark import adapter as spark_adapter
from modelport.providers.spark.auth import signed_url
from modelport.providers.spark.convert import spark_messages
from modelport.providers.spark.options import SparkOptions
from modelport.settings import ChannelConfig, ModelConfig
from tests.fakes.server import free_port, serve_asgi
from tests.fakes.spark import FakeSpark, scripted, text_frame
from tests.providers.helpers import (
    WEATHER_TOOL,
    chat,
    collect,
    collect_with_end,
    finish_reasons,
    streamed_function_call,
    streamed_text,
    streamed_tool_calls,
)

CREDENTIALS = {"app_id": "app12345", "api_secret": "test-api-secret"}
UNKNOWN = (
    "unknown Spark version 'v9.9'; set options.version to one of ['max-32k', 'pro-128k', "
    "'v1.1', 'v2.1', 'v3.1', 'v3.5', 'v4.0'] or give options.path and options.domain"
)
SID = r" \(sid cht[0-9a-f]{16}\)"
REFUSED = 'Spark refused the connection \\(HTTP 401\\): {{"message":"HMAC signature {}"}}'
WRONG_DOMAIN = "Spark error 10005: parameter.chat.domain must be generalv3.5 on this path" + SID
WRONG_APP = "Spark error 11200: auth error: this appId has no authorisation for the feature" + SID
NO_KEY = "Spark channel needs an api_key (the channel's or options.api_key)"
AT_LEAST_1 = "Input should be greater than or equal to 1"
Fault = tuple[int, str | None, bool]
MISCONFIGURED: Fault = (500, "channel_misconfigured", True)
UNSUPPORTED: Fault = (400, "unsupported_by_channel", True)
UNREACHED: Fault = (502, "upstream_connection_error", True)
FINAL: Fault = (400, None, False)
FORCED = {
    "tools": [WEATHER_TOOL],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeSpark, str]]:
    fake = FakeSpark()
    with serve_asgi(fake.app()) as url:
        yield fake, url.replace("http://", "ws://")


@pytest.fixture(autouse=True)
def fake(served: tuple[FakeSpark, str]) -> FakeSpark:
    served[0].reset()
    return served[0]


@pytest.fixture
def channel(served: tuple[FakeSpark, str]) -> ChannelConfig:
    return ChannelConfig(
        provider="spark",
        base_url=served[1],
        api_key="test-api-key",
        upstream_model="v3.5",
        options=dict(CREDENTIALS),
    )


@pytest.fixture
def spark(deps: ProviderDeps) -> SparkProvider:
    return SparkProvider(deps)


def edit(channel: ChannelConfig, **fields: Any) -> ChannelConfig:
    """A new channel: `channel` with `fields` replaced."""
    return ChannelConfig.model_validate({**channel.model_dump(), **fields})


def with_options(channel: ChannelConfig, **options: Any) -> ChannelConfig:
    return edit(channel, options={**channel.options, **options})


async def failure(
    spark: SparkProvider, request: ChatCompletionRequest, channel: ChannelConfig, stream: bool
) -> UpstreamError:
    with pytest.raises(UpstreamError) as info:
        if stream:
            await collect(spark.stream(request, channel))
        else:
            await spark.complete(request, channel)
    return info.value


def verdict(error: UpstreamError) -> Fault:
    return error.status, error.code, error.retryable


async def test_complete_text(spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig) -> None:
    messages = [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}]
    result = await spark.complete(chat("", messages=messages), channel)
    assert (result.model, result.usage) == ("public-model", Usage.of(3, 3))
    message = AssistantMessage(content="You said: hi")
    assert result.choices == [Choice(index=0, message=message, finish_reason="stop")]
    assert fake.requests[-1] == {
        "header": {"app_id": "app12345"},
        "parameter": {"chat": {"domain": "generalv3.5"}},
        "payload": {"message": {"text": messages}},
    }


async def test_stream_maps_frames_to_chunks_and_ends_with_the_usage(
    spark: SparkProvider, channel: ChannelConfig
) -> None:
    chunks, end = await collect_with_end(spark.stream(chat("one two three"), channel))
    assert streamed_text(chunks) == "You said: one two three"
    assert [c.choices[0].delta.role for c in chunks] == ["assistant", None, None]  # 3 frames
    assert [c.usage for c in chunks] == [None, None, None]
    assert len({c.id for c in chunks}) == 1
    assert finish_reasons(chunks) == ["stop"]
    assert (end.usage, end.estimated) == (Usage.of(3, 5), False)


async def test_usage_is_estimated_when_spark_reports_none(
    spark: SparkProvider, channel: ChannelConfig
) -> None:
    replies = (text_frame(0, "abcd"), text_frame(2, "efgh"))
    async with scripted(*replies) as url:
        stream = spark.stream(chat("12345678"), edit(channel, base_url=url))
        chunks, end = await collect_with_end(stream)
    assert (streamed_text(chunks), end.usage, end.estimated) == ("abcdefgh", Usage.of(2, 2), True)
    async with scripted(*replies) as url:
        result = await spark.complete(chat("12345678"), edit(channel, base_url=url))
    assert (result.choices[0].message.content, result.usage) == ("abcdefgh", Usage.of(2, 2))


@pytest.mark.parametrize(
    ("fields", "domain"),
    [
        ({"options": {**CREDENTIALS, "version": "v1.1"}}, "lite"),
        ({"options": {**CREDENTIALS, "version": "v3.1"}}, "generalv3"),
        ({"options": {**CREDENTIALS, "version": "V4.0"}}, "4.0Ultra"),
        ({"options": {**CREDENTIALS, "version": "Spark-Max-32K"}}, "max-32k"),
        ({"upstream_model": "spark-pro-128k"}, "pro-128k"),
        ({"options": {**CREDENTIALS, "path": "/chat/max-32k", "domain": "max-32k"}}, "max-32k"),
        ({"api_key": None, "options": {**CREDENTIALS, "api_key": "test-api-key"}}, "generalv3.5"),
    ],
)
async def test_domain_follows_the_version_path(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, fields: Any, domain: str
) -> None:
    result = await spark.complete(chat("hi"), edit(channel, **fields))
    assert result.choices[0].message.content == "You said: hi"
    assert fake.requests[-1]["parameter"]["chat"]["domain"] == domain


@pytest.mark.parametrize(
    ("options", "fault", "message"),
    [
        ({"domain": "lite"}, (400, "spark_10005", False), WRONG_DOMAIN),
        ({"app_id": "other"}, (400, "spark_11200", False), WRONG_APP),
        ({"api_secret": "x"}, FINAL, REFUSED.format("does not match")),
        ({"api_key": "x"}, FINAL, REFUSED.format("cannot be verified")),
    ],
)
async def test_refusals_are_final(
    spark: SparkProvider, channel: ChannelConfig, options: Any, fault: Fault, message: str
) -> None:
    error = await failure(spark, chat("hi"), with_options(channel, **options), stream=False)
    assert verdict(error) == fault
    assert re.fullmatch(message, error.message), error.message


async def test_skewed_date_is_refused(
    spark: SparkProvider, channel: ChannelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stale(base: str, path: str, key: str, secret: str, now: float = time.time() - 400) -> str:
        return signed_url(base, path, key, secret, now=now)

    monkeypatch.setattr(spark_adapter, "signed_url", stale)
    error = await failure(spark, chat("hi"), channel, stream=False)
    assert verdict(error) == (400, None, False)
    assert error.message == (
        'Spark refused the connection (HTTP 403): {"message":"HMAC signature cannot be '
        'verified, a valid date or x-date header is required for HMAC Authentication"}'
    )
    base, key, secret = channel.base_url or "", "test-api-key", "test-api-secret"
    with pytest.raises(InvalidStatus) as refused:
        await connect(stale(base, "/v3.5/chat", key, secret))
    assert refused.value.response.status_code == 403
    async with connect(stale(base, "/v3.5/chat", key, secret, time.time() - 200)):
        pass  # within the 300 s allowed


async def test_parameters_are_mapped_into_spark_ranges(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    request = chat("hi", temperature=0, top_k=10, max_tokens=20000, user="u" * 40)
    await spark.complete(request, channel)
    sent = fake.requests[-1]
    assert sent["parameter"]["chat"] == {
        "domain": "generalv3.5",
        "temperature": 0.01,
        "top_k": 6,
        "max_tokens": 8192,
    }
    assert sent["header"] == {"app_id": "app12345", "uid": "u" * 32}
    await spark.complete(chat("hi", max_tokens=500), with_options(channel, max_tokens_cap=100))
    assert fake.requests[-1]["parameter"]["chat"] == {"domain": "generalv3.5", "max_tokens": 100}


def test_messages_merge_runs_and_lead_with_one_system_message() -> None:
    turns = "user:a system:s1 user:b assistant:c developer:s2 user:d assistant:prefill"
    messages = [dict(zip(("role", "content"), t.split(":"), strict=True)) for t in turns.split()]
    assert [m.model_dump() for m in spark_messages(chat("", messages=messages).messages)] == [
        {"role": "system", "content": "s1\n\ns2"},
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
    ]


async def test_function_calling_round_trip(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    first = await spark.complete(chat("weather?", tools=[WEATHER_TOOL]), channel)
    calls = first.choices[0].message.tool_calls or []
    assert len(calls) == 1 and re.fullmatch("call_[0-9a-f]{24}", calls[0].id)
    message = AssistantMessage(tool_calls=calls)
    assert first.choices == [Choice(index=0, message=message, finish_reason="tool_calls")]
    assert calls[0].function == FunctionCallOut(
        name="get_weather", arguments='{"query": "weather?"}'
    )
    assert first.usage == Usage.of(1, 0)
    assert fake.requests[-1]["payload"]["functions"] == {"text": [WEATHER_TOOL["function"]]}

    follow_up: list[dict[str, Any]] = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [calls[0].model_dump()]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
    ]
    second = await spark.complete(chat("", messages=follow_up, tools=[WEATHER_TOOL]), channel)
    assert second.choices[0].message.content == f"Got it: [{calls[0].id} returned] sunny"
    assert second.choices[0].finish_reason == "stop"
    assert fake.requests[-1]["payload"]["message"]["text"][1] == {
        "role": "assistant",
        "content": '[called get_weather with {"query": "weather?"}]',
    }


async def test_function_calling_streams(spark: SparkProvider, channel: ChannelConfig) -> None:
    stream = spark.stream(chat("rain?", tools=[WEATHER_TOOL]), channel)
    chunks, end = await collect_with_end(stream)
    calls = streamed_tool_calls(chunks)
    assert list(calls) == [0] and re.fullmatch("call_[0-9a-f]{24}", calls[0]["id"])
    assert (calls[0]["name"], calls[0]["arguments"]) == ("get_weather", '{"query": "rain?"}')
    assert finish_reasons(chunks) == ["tool_calls"]
    # the fake reports 0 completion tokens for a streamed call: booked at the floor, an estimate
    assert (end.usage, end.estimated) == (Usage.of(1, 1), True)

    legacy = chat("rain?", functions=[WEATHER_TOOL["function"]])
    chunks = await collect(spark.stream(legacy, channel))
    call = {"name": "get_weather", "arguments": {"query": "rain?"}}
    assert (streamed_function_call(chunks), finish_reasons(chunks)) == (call, ["function_call"])
    result = await spark.complete(legacy, channel)
    message = AssistantMessage(
        function_call=FunctionCallOut(name="get_weather", arguments='{"query": "rain?"}')
    )
    assert result.choices == [Choice(index=0, message=message, finish_reason="function_call")]


@pytest.mark.parametrize(
    ("word", "fault"),
    [
        ("SPARK_RATE_LIMIT", (429, "spark_11202", True)),
        ("SPARK_BUSY", (502, "spark_10110", True)),
        ("SPARK_AUDIT", (400, "spark_10013", False)),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_error_frames_map_to_statuses(
    spark: SparkProvider, channel: ChannelConfig, word: str, fault: Fault, stream: bool
) -> None:
    assert verdict(await failure(spark, chat(f"please {word}"), channel, stream)) == fault


@pytest.mark.parametrize(
    ("word", "code"),
    [("SPARK_GARBAGE", "upstream_malformed_response"), ("SPARK_DROP", "upstream_truncated")],
)
async def test_a_broken_answer_is_never_retried(
    spark: SparkProvider, channel: ChannelConfig, word: str, code: str
) -> None:
    received: list[ChatCompletionChunk] = []
    with pytest.raises(UpstreamError) as info:
        async for batch in spark.stream(chat(f"{word} in the middle"), channel):
            for item in batch:
                assert isinstance(item, ChatCompletionChunk)
                received.append(item)
    assert streamed_text(received) == "You said:"
    assert verdict(info.value) == (502, code, False)
    # Not even when nothing reached the client: Spark got the request and may have billed it.
    error = await failure(spark, chat(f"{word} again"), channel, stream=False)
    assert verdict(error) == (502, code, False)


@pytest.mark.parametrize(
    ("reply", "fault"),
    [
        (None, (502, "upstream_truncated", False)),  # closed right after the request frame
        (1.0, (504, "upstream_timeout", False)),  # no frame within read_timeout
        ("{not json", (502, "upstream_malformed_response", False)),
        ('{"header": {"code": "x"}}', (502, "upstream_malformed_response", False)),
        (text_frame(2, "x" * 2000), (502, "upstream_response_too_large", False)),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_failures_after_the_request_frame_are_not_retryable(
    spark: SparkProvider,
    channel: ChannelConfig,
    monkeypatch: pytest.MonkeyPatch,
    reply: str | float | None,
    fault: Fault,
    stream: bool,
) -> None:
    monkeypatch.setattr(spark_adapter, "MAX_FRAME_BYTES", 1000)
    async with scripted(reply) as url:
        target = edit(channel, base_url=url, read_timeout=0.2)
        assert verdict(await failure(spark, chat("hi"), target, stream)) == fault


async def test_a_stream_closed_early_hangs_up(spark: SparkProvider, channel: ChannelConfig) -> None:
    hung_up = asyncio.Event()
    async with scripted(text_frame(0, "a"), 5.0, hung_up=hung_up) as url:
        stream = spark.stream(chat("hi"), edit(channel, base_url=url))
        [first] = await anext(stream)
        assert isinstance(first, ChatCompletionChunk) and streamed_text([first]) == "a"
        await stream.aclose()  # the client left
        await asyncio.wait_for(hung_up.wait(), 2)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # takes the upgrade request, never answers it
    writer.close()


@pytest.mark.parametrize("stream", [False, True])
async def test_failures_before_the_request_frame_are_retryable(
    spark: SparkProvider, channel: ChannelConfig, stream: bool
) -> None:
    port = free_port()
    error = await failure(
        spark, chat("hi"), edit(channel, base_url=f"ws://127.0.0.1:{port}"), stream
    )
    refused = f"ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', {port})"
    assert (verdict(error), error.message) == (UNREACHED, f"Spark could not be reached: {refused}")
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    mute = edit(channel, base_url=url, connect_timeout=0.2)
    try:
        error = await failure(spark, chat("hi"), mute, stream)
    finally:
        server.close()
    assert (verdict(error), error.message) == (UNREACHED, "Spark could not be reached: timed out")


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"n": 2}, "n > 1"),
        ({"stop": ["END"]}, "stop sequences"),
        ({"response_format": {"type": "json_object"}}, "response_format json_object"),
        (FORCED, "forcing a function call (tool_choice / function_call)"),
    ],
)
async def test_unsupported_features_are_refused_before_connecting(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, fields: Any, what: str
) -> None:
    error = await failure(spark, chat("hi", **fields), channel, stream=False)
    message = f"Spark channels do not support {what}"
    assert (verdict(error), error.message, fake.handshakes) == (UNSUPPORTED, message, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"options": {"app_id": "app12345"}}, "Spark channel options.api_secret: Field required"),
        ({"api_key": None}, NO_KEY),
        ({"upstream_model": "v9.9"}, UNKNOWN),
    ],
)
async def test_a_channel_that_cannot_work_fails_before_connecting(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, fields: Any, message: str
) -> None:
    error = await failure(spark, chat("hi"), edit(channel, **fields), stream=False)
    assert (verdict(error), error.message, fake.handshakes) == (MISCONFIGURED, message, 0)


async def test_a_misspelt_option_is_refused(
    deps: ProviderDeps, spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    misspelt = with_options(channel, max_token_cap=100)
    with pytest.raises(ChannelConfigError) as info:
        ProviderRegistry(deps).check([ModelConfig(name="spark", channels=[misspelt])])
    problem = "options.max_token_cap: Extra inputs are not permitted"
    assert str(info.value) == f"model 'spark', channel 0: {problem}"
    # A channel the start-up check never saw is refused when it is used.
    error = await failure(spark, chat("hi"), misspelt, stream=False)
    assert (verdict(error), error.message) == (MISCONFIGURED, f"Spark channel {problem}")
    assert fake.handshakes == 0


@pytest.mark.parametrize(
    ("options", "where", "problem"),
    [
        ({"api_secret": "s"}, "options.app_id", "Field required"),
        ({"max_tokens_cap": 0}, "options.max_tokens_cap", AT_LEAST_1),
        ({"path": "chat"}, "options.path", "String should match pattern '^/'"),
        ({"version": "v9.9"}, "options", UNKNOWN),
    ],
)
def test_options_are_checked_at_start_up(
    deps: ProviderDeps, channel: ChannelConfig, options: Any, where: str, problem: str
) -> None:
    registry = ProviderRegistry(deps)
    registry.check([ModelConfig(name="spark", channels=[channel])])
    wrong = edit(channel, options=options if "api_secret" in options else CREDENTIALS | options)
    with pytest.raises(ChannelConfigError) as info:
        registry.check([ModelConfig(name="spark", channels=[wrong])])
    assert (info.value.field, info.value.problem) == (where, problem)


def test_registry_builds_the_spark_provider(deps: ProviderDeps) -> None:
    assert isinstance(ProviderRegistry(deps).get("spark"), SparkProvider)
    assert SparkProvider.Options is SparkOptions
