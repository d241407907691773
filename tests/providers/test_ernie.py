"""The ERNIE (Qianfan v1) adapter against a fake that keeps Baidu's rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import Usage
from modelport.providers.base import ProviderDeps
from modelport.providers.ernie import ErnieOptions, ErnieProvider
from modelport.providers.ernie.codes import http_error
from modelport.providers.ernie.convert import ernie_messages
from modelport.providers.errors import UpstreamError
from modelport.providers.registry import ChannelConfigError, ProviderRegistry
from modelport.providers.stream import StreamEnd
from modelport.settings import ChannelConfig, ModelConfig
from tests.fakes.ernie import FakeErnie
from tests.fakes.server import free_port, serve_asgi
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


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeErnie, str]]:
    fake = FakeErnie()
    with serve_asgi(fake.app()) as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeErnie, str]) -> FakeErnie:
    served[0].reset()
    return served[0]


def ernie_channel(url: str, **options: Any) -> ChannelConfig:
    """A fresh channel (its typed options are cached per instance, so options never change
    on a copy)."""
    return ChannelConfig(
        provider="ernie",
        base_url=url,
        upstream_model="ERNIE-3.5-8K",
        options={"ak": "test-ak", "sk": "test-sk", **options},
    )


@pytest.fixture
def channel(served: tuple[FakeErnie, str]) -> ChannelConfig:
    return ernie_channel(served[1])


@pytest.fixture
def ernie(deps: ProviderDeps) -> ErnieProvider:
    return ErnieProvider(deps)


def messages(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in pairs]


async def test_complete_text_sends_system_top_level(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    request = chat("", messages=messages(("system", "be brief"), ("user", "hello there")))
    result = await ernie.complete(request, channel)
    assert result.choices[0].message.content == "You said: hello there"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=4, completion_tokens=4, total_tokens=8)
    sent = fake.chat_requests[-1]
    assert sent["system"] == "be brief"
    assert sent["messages"] == [{"role": "user", "content": "hello there"}]


async def test_stream_ends_with_the_last_cumulative_usage(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    chunks, end = await collect_with_end(ernie.stream(chat("one two three four five"), channel))
    assert streamed_text(chunks) == "You said: one two three four five"
    assert len(chunks) == 4
    assert [c.choices[0].delta.role for c in chunks] == ["assistant", None, None, None]
    assert [c.usage for c in chunks] == [None] * 4
    assert end == StreamEnd(Usage(prompt_tokens=5, completion_tokens=7, total_tokens=12))
    assert finish_reasons(chunks) == ["stop"]
    assert fake.chat_requests[-1]["stream"] is True


async def test_sampling_parameters_are_mapped_into_ernie_ranges(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    request = chat(
        "hi",
        temperature=0,
        top_p=0.5,
        presence_penalty=1.0,
        frequency_penalty=-1.0,
        max_tokens=1,
        stop=["END"],
        user="u-42",
    )
    result = await ernie.complete(request, channel)
    sent = fake.chat_requests[-1]
    assert sent["temperature"] == 0.01
    assert sent["top_p"] == 0.5
    assert sent["penalty_score"] == 1.5
    assert sent["max_output_tokens"] == 2  # ERNIE's minimum
    assert sent["stop"] == ["END"]
    assert sent["user_id"] == "u-42"
    assert result.choices[0].finish_reason == "length"
    assert result.choices[0].message.content == "You said:"
    await ernie.complete(chat("hi", temperature=2.0), channel)
    assert fake.chat_requests[-1]["temperature"] == 1.0


async def test_token_is_cached_per_ak(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    await ernie.complete(chat("a"), channel)
    await collect(ernie.stream(chat("b"), channel))
    await ernie.complete(chat("c"), channel)
    assert fake.token_requests == 1


async def test_token_is_refreshed_before_it_expires(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    fake.expires_in = 1
    await ernie.complete(chat("a"), channel)
    await asyncio.sleep(1.1)  # the fake now rejects the first token with error 111
    await ernie.complete(chat("b"), channel)
    assert fake.token_requests == 2
    assert fake.token_rejections == 0


@pytest.mark.parametrize("streaming", [False, True])
async def test_expired_token_error_refreshes_and_retries_once(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig, streaming: bool
) -> None:
    await ernie.complete(chat("warm up"), channel)
    fake.expire_all_tokens()
    if streaming:
        text = streamed_text(await collect(ernie.stream(chat("again"), channel)))
    else:
        text = (await ernie.complete(chat("again"), channel)).choices[0].message.content or ""
    assert text == "You said: again"
    assert fake.token_requests == 2
    assert fake.token_rejections == 1


async def test_wrong_secret_key_is_an_upstream_auth_error(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    bad = ernie_channel(str(channel.base_url), sk="nope")
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi"), bad)
    error = info.value
    assert error.message == "ERNIE access token request failed: Client authentication failed"
    assert (error.status, error.code, error.retryable) == (400, "ernie_token_failed", False)
    assert fake.chat_requests == []


async def test_key_written_ak_pipe_sk_is_accepted(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    piped = ChannelConfig(
        provider="ernie",
        base_url=channel.base_url,
        api_key="test-ak|test-sk",
        options={"endpoint": "eb-instant"},
    )
    result = await ernie.complete(chat("hi"), piped)
    assert result.choices[0].message.content == "You said: hi"


async def test_messages_are_repaired_into_ernie_order(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    request = chat(
        "",
        messages=messages(
            ("assistant", "Welcome!"),
            ("system", "rule one"),
            ("user", "first"),
            ("user", "second"),
            ("assistant", "reply a"),
            ("assistant", "reply b"),
            ("developer", "rule two"),
            ("user", "third"),
            ("assistant", "prefill"),
        ),
    )
    result = await ernie.complete(request, channel)
    sent = fake.chat_requests[-1]
    assert sent["system"] == "rule one\n\nrule two"
    assert sent["messages"] == [
        {"role": "user", "content": "first\n\nsecond"},
        {"role": "assistant", "content": "reply a\n\nreply b"},
        {"role": "user", "content": "third"},
    ]
    assert result.choices[0].message.content == "You said: third"


def test_tool_history_becomes_function_messages() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    other = {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}
    request = ChatCompletionRequest.model_validate(
        {
            "model": "m",
            "messages": [
                {"role": "tool", "tool_call_id": "c0", "content": "orphan result"},
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": None, "tool_calls": [call, other]},
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": "two"},
            ],
        }
    )
    system, out = ernie_messages(request.messages)
    assert system is None
    dumped = [m.model_dump(exclude_none=True) for m in out]
    assert dumped == [
        {"role": "user", "content": "[function returned] orphan result\n\ngo"},
        {"role": "assistant", "content": "", "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "[f returned] one\n\n[g returned] two"},
    ]


def test_only_a_system_message_becomes_the_user_turn() -> None:
    request = chat("", messages=messages(("system", "say hi")))
    assert ernie_messages(request.messages)[1][0].model_dump(exclude_none=True) == {
        "role": "user",
        "content": "say hi",
    }


async def test_function_calling_round_trip(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    request = chat("weather in Paris?", tools=[WEATHER_TOOL])
    first = await ernie.complete(request, channel)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].function.arguments) == {"query": "weather in Paris?"}
    assert fake.chat_requests[-1]["functions"][0]["name"] == "get_weather"

    follow_up: list[dict[str, Any]] = [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [calls[0].model_dump()]},
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
    ]
    second = await ernie.complete(chat("", messages=follow_up, tools=[WEATHER_TOOL]), channel)
    assert second.choices[0].message.content == "The function get_weather said: sunny"
    sent = fake.chat_requests[-1]["messages"]
    assert sent[1]["function_call"]["name"] == "get_weather"
    assert sent[2] == {"role": "function", "name": "get_weather", "content": "sunny"}


async def test_legacy_functions_answer_with_function_call(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    request = chat("look it up", functions=[WEATHER_TOOL["function"]])
    result = await ernie.complete(request, channel)
    assert result.choices[0].finish_reason == "function_call"
    call = result.choices[0].message.function_call
    assert call is not None and call.name == "get_weather"


async def test_function_calling_streams(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    stream = ernie.stream(chat("rain?", tools=[WEATHER_TOOL]), channel)
    chunks, end = await collect_with_end(stream)
    calls = streamed_tool_calls(chunks)
    assert list(calls) == [0]
    assert calls[0]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["arguments"]) == {"query": "rain?"}
    assert finish_reasons(chunks) == ["tool_calls"]
    # the fake reports 0 completion tokens for a streamed call: booked at the floor, an estimate
    assert end == StreamEnd(Usage.of(1, 1), estimated=True)

    legacy = chat("rain?", functions=[WEATHER_TOOL["function"]])
    chunks = await collect(ernie.stream(legacy, channel))
    assert streamed_function_call(chunks)["name"] == "get_weather"
    assert finish_reasons(chunks) == ["function_call"]


async def test_tool_choice_none_sends_no_functions(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    result = await ernie.complete(chat("hi", tools=[WEATHER_TOOL], tool_choice="none"), channel)
    assert "functions" not in fake.chat_requests[-1]
    assert result.choices[0].message.content == "You said: hi"


@pytest.mark.parametrize(
    ("word", "status", "code", "message"),
    [
        ("ERNIE_RATE_LIMIT", 429, "ernie_18", "ERNIE error 18: Open api qps request limit reached"),
        ("ERNIE_BUSY", 502, "ernie_336100", "ERNIE error 336100: try again later"),
    ],
)
@pytest.mark.parametrize("streaming", [False, True])
async def test_error_codes_in_200_bodies_map_to_statuses(
    ernie: ErnieProvider,
    fake: FakeErnie,
    channel: ChannelConfig,
    word: str,
    status: int,
    code: str,
    message: str,
    streaming: bool,
) -> None:
    """Both say another channel may succeed (429, and a busy server's 503)."""
    with pytest.raises(UpstreamError) as info:
        if streaming:
            await collect(ernie.stream(chat(f"please {word}"), channel))
        else:
            await ernie.complete(chat(f"please {word}"), channel)
    error = info.value
    assert (error.status, error.code, error.message, error.retryable) == (
        status,
        code,
        message,
        True,
    )


async def test_parameter_error_is_a_client_error(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    await ernie.complete(chat("hi", max_tokens=5000), channel)
    assert fake.chat_requests[-1]["max_output_tokens"] == 2048  # lowered to the model's cap
    uncapped = ernie_channel(str(channel.base_url), max_output_tokens_cap=8192)
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi", max_tokens=5000), uncapped)
    error = info.value
    assert (error.status, error.code, error.retryable) == (400, "ernie_336003", False)
    assert error.message == "ERNIE error 336003: max_output_tokens range is [2, 2048]"
    assert fake.chat_requests[-1]["max_output_tokens"] == 5000


async def test_concurrent_requests_share_one_token_request(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    results = await asyncio.gather(*(ernie.complete(chat(f"q{i}"), channel) for i in range(5)))
    assert [r.choices[0].message.content for r in results] == [f"You said: q{i}" for i in range(5)]
    assert fake.token_requests == 1


@pytest.mark.parametrize("streaming", [False, True])
async def test_unsafe_input_finishes_as_content_filter(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig, streaming: bool
) -> None:
    request = chat("ERNIE_UNSAFE words")
    if streaming:
        reasons = finish_reasons(await collect(ernie.stream(request, channel)))
    else:
        reasons = [(await ernie.complete(request, channel)).choices[0].finish_reason or ""]
    assert reasons == ["content_filter"]


async def test_unknown_endpoint_is_not_found(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi"), channel.model_copy(update={"upstream_model": "nope"}))
    error = info.value
    assert (error.status, error.code, error.retryable) == (404, "ernie_3", False)


async def test_garbage_body_is_malformed_and_final(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    """The upstream ran the request; another channel would run it again."""
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("ERNIE_GARBAGE now"), channel)
    error = info.value
    assert (error.status, error.code, error.retryable) == (
        502,
        "upstream_malformed_response",
        False,
    )
    assert error.message == "ERNIE sent a malformed response: invalid JSON"


@pytest.mark.parametrize(
    ("word", "detail"),
    [
        ("ERNIE_GARBAGE", "an event is not valid JSON"),
        ("ERNIE_DROP", "the stream ended before its last event (is_end)"),
    ],
)
async def test_broken_stream_fails_after_output_without_retry(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig, word: str, detail: str
) -> None:
    received = []
    with pytest.raises(UpstreamError) as info:
        async for batch in ernie.stream(chat(f"{word} in the middle"), channel):
            assert not any(isinstance(item, StreamEnd) for item in batch)
            received += batch
    assert streamed_text(received) == "You said:"
    error = info.value
    assert (error.status, error.code, error.retryable) == (
        502,
        "upstream_malformed_response",
        False,
    )
    assert error.message == f"ERNIE sent a malformed response: {detail}"


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 2},
        {"logprobs": True},
        {"tools": [WEATHER_TOOL], "tool_choice": "required"},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
        {
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}],
                }
            ]
        },
    ],
)
async def test_unsupported_features_are_refused_before_calling(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig, fields: dict[str, Any]
) -> None:
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi", **fields), channel)
    assert info.value.status == 400 and info.value.retryable
    assert info.value.code == "unsupported_by_channel"
    assert fake.token_requests == 0


async def test_unreachable_upstream_is_retryable(ernie: ErnieProvider) -> None:
    dead = ChannelConfig(
        provider="ernie",
        base_url=f"http://127.0.0.1:{free_port()}",
        options={"ak": "a", "sk": "b"},
        connect_timeout=1,
    )
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi"), dead)
    error = info.value
    assert (error.status, error.code, error.retryable) == (502, "upstream_connection_error", True)


def test_registry_builds_the_ernie_provider(deps: ProviderDeps) -> None:
    assert isinstance(ProviderRegistry(deps).get("ernie"), ErnieProvider)


async def test_secret_key_spelling_is_accepted(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    spelt = ChannelConfig(
        provider="ernie",
        base_url=channel.base_url,
        upstream_model="ernie-bot-4",
        options={"api_key": "test-ak", "secret_key": "test-sk"},
    )
    result = await ernie.complete(chat("hi"), spelt)
    assert result.choices[0].message.content == "You said: hi"


async def test_missing_credentials_are_a_channel_misconfiguration(
    ernie: ErnieProvider, fake: FakeErnie, channel: ChannelConfig
) -> None:
    bare = ChannelConfig(provider="ernie", base_url=channel.base_url, options={"ak": "test-ak"})
    with pytest.raises(UpstreamError) as info:
        await ernie.complete(chat("hi"), bare)
    error = info.value
    assert (error.status, error.code, error.retryable) == (500, "channel_misconfigured", True)
    assert fake.token_requests == 0


def test_misspelt_option_is_refused() -> None:
    channel = ChannelConfig(provider="ernie", options={"ak": "a", "secret": "b"})
    with pytest.raises(ValidationError) as info:
        channel.typed_options(ErnieOptions)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [
        (("secret",), "extra_forbidden")
    ]


def test_option_of_the_wrong_type_is_refused() -> None:
    channel = ChannelConfig(provider="ernie", options={"max_output_tokens_cap": "lots"})
    with pytest.raises(ValidationError) as info:
        channel.typed_options(ErnieOptions)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [
        (("max_output_tokens_cap",), "int_parsing")
    ]


def test_options_keep_the_secret_key_out_of_reprs() -> None:
    options = ChannelConfig(provider="ernie", options={"ak": "a", "sk": "s3cr3t"}).typed_options(
        ErnieOptions
    )
    assert "s3cr3t" not in repr(options)
    assert options.max_output_tokens_cap == 2048


def test_registry_check_names_the_misspelt_option(deps: ProviderDeps) -> None:
    model = ModelConfig(
        name="ernie",
        channels=[ChannelConfig(provider="ernie", options={"ak": "a", "sk": "b", "endpont": "x"})],
    )
    with pytest.raises(ChannelConfigError) as info:
        ProviderRegistry(deps).check([model])
    assert (info.value.channel, info.value.field) == (0, "options.endpont")


def test_http_status_errors_keep_retry_after() -> None:
    error = http_error(503, b"  busy  ", {"retry-after": "3"})
    assert (error.status, error.retryable, error.headers) == (502, True, {"Retry-After": "3"})
    assert error.message == "ERNIE answered HTTP 503: busy"
