"""The Spark adapter against a fake that authenticates and frames answers the way iFlytek does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.registry import ProviderRegistry
from modelport.providers.spark import SparkProvider
from modelport.providers.spark import adapter as spark_adapter
from modelport.providers.spark.auth import signed_url
from modelport.providers.spark.convert import spark_messages
from modelport.settings import ChannelConfig
from tests.fakes.server import free_port, serve_asgi
from tests.fakes.spark import FakeSpark
from tests.providers.helpers import (
    WEATHER_TOOL,
    chat,
    collect,
    finish_reasons,
    streamed_function_call,
    streamed_text,
    streamed_tool_calls,
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeSpark, str]]:
    fake = FakeSpark()
    with serve_asgi(fake.app()) as url:
        yield fake, url.replace("http://", "ws://")


@pytest.fixture
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
        options={"app_id": "app12345", "api_secret": "test-api-secret"},
    )


@pytest.fixture
def spark(deps: ProviderDeps) -> SparkProvider:
    return SparkProvider(deps)


def with_options(channel: ChannelConfig, **options: Any) -> ChannelConfig:
    return channel.model_copy(update={"options": {**channel.options, **options}})


async def test_complete_text(spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig) -> None:
    request = chat(
        "", messages=[{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}]
    )
    result = await spark.complete(request, channel)
    assert result.choices[0].message.content == "You said: hi"
    assert result.choices[0].finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (3, 3)
    sent = fake.requests[-1]
    assert sent["header"]["app_id"] == "app12345"
    assert sent["parameter"]["chat"]["domain"] == "generalv3.5"
    assert sent["payload"]["message"]["text"] == [
        {"role": "system", "content": "be kind"},
        {"role": "user", "content": "hi"},
    ]


async def test_stream_maps_frames_to_chunks(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    chunks = await collect(spark.stream(chat("one two three"), channel))
    assert streamed_text(chunks) == "You said: one two three"
    assert len(chunks) == 3  # frames with status 0, 1, 2
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.usage for c in chunks[:-1]] == [None, None]
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (3, 5, 8)
    assert finish_reasons(chunks) == ["stop"]


@pytest.mark.parametrize(
    ("version", "domain"),
    [
        ("v1.1", "lite"),
        ("v3.1", "generalv3"),
        ("v4.0", "4.0Ultra"),
        ("Spark-Max-32K", "max-32k"),
        ("spark-pro-128k", "pro-128k"),
    ],
)
async def test_domain_follows_the_version_path(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, version: str, domain: str
) -> None:
    result = await spark.complete(chat("hi"), with_options(channel, version=version))
    assert result.choices[0].message.content == "You said: hi"
    assert fake.requests[-1]["parameter"]["chat"]["domain"] == domain


async def test_a_domain_that_does_not_match_the_path_is_rejected(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), with_options(channel, domain="lite"))
    assert (info.value.status, info.value.code, info.value.retryable) == (400, "spark_10005", False)


async def test_unknown_version_is_a_channel_misconfiguration(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), with_options(channel, version="v9.9"))
    assert info.value.code == "channel_misconfigured" and fake.handshakes == 0


async def test_wrong_secret_fails_the_signature_check(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), with_options(channel, api_secret="wrong"))
    assert "HMAC signature does not match" in info.value.message
    assert info.value.status == 400 and not info.value.retryable
    assert fake.requests == []


async def test_skewed_date_is_refused(
    spark: SparkProvider,
    fake: FakeSpark,
    channel: ChannelConfig,
    served: tuple[FakeSpark, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stale(base: str, path: str, key: str, secret: str) -> str:
        return signed_url(base, path, key, secret, now=time.time() - 400)

    monkeypatch.setattr(spark_adapter, "signed_url", stale)
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), channel)
    assert "a valid date" in info.value.message and not info.value.retryable

    base = served[1]
    with pytest.raises(InvalidStatus) as refused:
        await connect(stale(base, "/v3.5/chat", "test-api-key", "test-api-secret"))
    assert refused.value.response.status_code == 403
    fresh = signed_url(base, "/v3.5/chat", "test-api-key", "test-api-secret", time.time() - 200)
    async with connect(fresh):
        pass


async def test_wrong_app_id_is_refused(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), with_options(channel, app_id="other"))
    assert (info.value.status, info.value.code) == (400, "spark_11200")


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
    assert sent["header"]["uid"] == "u" * 32


def test_messages_merge_runs_and_lead_with_one_system_message() -> None:
    request = chat(
        "",
        messages=[
            {"role": "user", "content": "a"},
            {"role": "system", "content": "s1"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
            {"role": "developer", "content": "s2"},
            {"role": "user", "content": "d"},
            {"role": "assistant", "content": "prefill"},
        ],
    )
    assert [m.model_dump() for m in spark_messages(request.messages)] == [
        {"role": "system", "content": "s1\n\ns2"},
        {"role": "user", "content": "a\n\nb"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
    ]


async def test_function_calling_round_trip(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    first = await spark.complete(chat("weather?", tools=[WEATHER_TOOL]), channel)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    assert calls[0].function.name == "get_weather"
    assert json.loads(calls[0].function.arguments) == {"query": "weather?"}
    assert fake.requests[-1]["payload"]["functions"]["text"][0]["name"] == "get_weather"

    follow_up: list[dict[str, Any]] = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [calls[0].model_dump()]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
    ]
    second = await spark.complete(chat("", messages=follow_up, tools=[WEATHER_TOOL]), channel)
    assert second.choices[0].message.content == f"Got it: [{calls[0].id} returned] sunny"
    sent = fake.requests[-1]["payload"]["message"]["text"]
    assert sent[1]["role"] == "assistant" and "get_weather" in sent[1]["content"]


async def test_function_calling_streams(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig
) -> None:
    chunks = await collect(spark.stream(chat("rain?", tools=[WEATHER_TOOL]), channel))
    assert streamed_tool_calls(chunks)[0]["name"] == "get_weather"
    assert finish_reasons(chunks) == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 1

    legacy = chat("rain?", functions=[WEATHER_TOOL["function"]])
    chunks = await collect(spark.stream(legacy, channel))
    assert streamed_function_call(chunks) == {
        "name": "get_weather",
        "arguments": {"query": "rain?"},
    }
    assert finish_reasons(chunks) == ["function_call"]
    result = await spark.complete(legacy, channel)
    assert result.choices[0].message.function_call is not None
    assert result.choices[0].finish_reason == "function_call"


@pytest.mark.parametrize(
    ("word", "status", "code", "retryable"),
    [
        ("SPARK_RATE_LIMIT", 429, "spark_11202", True),
        ("SPARK_BUSY", 502, "spark_10110", True),
        ("SPARK_AUDIT", 400, "spark_10013", False),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_error_frames_map_to_statuses(
    spark: SparkProvider,
    fake: FakeSpark,
    channel: ChannelConfig,
    word: str,
    status: int,
    code: str,
    retryable: bool,
    streaming: bool,
) -> None:
    with pytest.raises(UpstreamError) as info:
        if streaming:
            await collect(spark.stream(chat(f"please {word}"), channel))
        else:
            await spark.complete(chat(f"please {word}"), channel)
    assert (info.value.status, info.value.code, info.value.retryable) == (status, code, retryable)


@pytest.mark.parametrize("word", ["SPARK_GARBAGE", "SPARK_DROP"])
async def test_broken_stream_fails_after_output_without_retry(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, word: str
) -> None:
    received = []
    with pytest.raises(UpstreamError) as info:
        async for chunk in spark.stream(chat(f"{word} in the middle"), channel):
            received.append(chunk)
    assert streamed_text(received) == "You said:"
    assert info.value.status == 502 and not info.value.retryable
    with pytest.raises(UpstreamError) as whole:
        await spark.complete(chat(f"{word} again"), channel)
    assert whole.value.status == 502 and whole.value.retryable  # nothing reached the client


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 2},
        {"stop": ["END"]},
        {"response_format": {"type": "json_object"}},
        {
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    ],
)
async def test_unsupported_features_are_refused_before_connecting(
    spark: SparkProvider, fake: FakeSpark, channel: ChannelConfig, fields: dict[str, Any]
) -> None:
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi", **fields), channel)
    assert (info.value.status, info.value.code) == (400, "unsupported_by_channel")
    assert info.value.retryable and fake.handshakes == 0


async def test_missing_credentials_are_a_channel_misconfiguration(
    spark: SparkProvider, channel: ChannelConfig
) -> None:
    bare = channel.model_copy(update={"options": {"app_id": "app12345"}})
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), bare)
    assert info.value.code == "channel_misconfigured"


async def test_unreachable_upstream_is_retryable(
    spark: SparkProvider, channel: ChannelConfig
) -> None:
    dead = channel.model_copy(update={"base_url": f"ws://127.0.0.1:{free_port()}"})
    with pytest.raises(UpstreamError) as info:
        await spark.complete(chat("hi"), dead)
    assert info.value.status == 502 and info.value.retryable


def test_registry_builds_the_spark_provider(deps: ProviderDeps) -> None:
    assert isinstance(ProviderRegistry(deps).get("spark"), SparkProvider)
