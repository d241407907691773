"""The shared upstream client (`UpstreamHTTP`, on aiohttp) against the fake OpenAI API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.http_client import UpstreamHTTP
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.settings import ChannelConfig, Settings
from tests.fakes.server import free_port
from tests.providers.helpers import (
    WEATHER_TOOL,
    chat,
    collect,
    collect_with_end,
    streamed_tool_calls,
)


@pytest.fixture
async def provider() -> AsyncIterator[OpenAICompatProvider]:
    settings = Settings()
    http = UpstreamHTTP(settings.upstream)
    yield OpenAICompatProvider(ProviderDeps(settings=settings, http=http))
    await http.aclose()


def channel(url: str, **fields: Any) -> ChannelConfig:
    return ChannelConfig(provider="openai_compat", base_url=url, api_key="sk-test-1", **fields)


async def test_sync_stream_and_tools(provider: OpenAICompatProvider, openai_url: str) -> None:
    reply = await provider.complete(chat("hi there"), channel(openai_url))
    assert reply.choices[0].message.content == "Echo: hi there"
    chunks, end = await collect_with_end(
        provider.stream(chat("call it", tools=[WEATHER_TOOL]), channel(openai_url))
    )
    call = streamed_tool_calls(chunks)[0]
    assert call["name"] == "get_weather" and call["arguments"].startswith('{"query": "call it"')
    assert not end.estimated


async def test_connections_are_pooled(
    provider: OpenAICompatProvider, openai_url: str, openai_app: Any
) -> None:
    for _ in range(4):
        await provider.complete(chat("hi"), channel(openai_url))
        await collect(provider.stream(chat("hi"), channel(openai_url)))
    assert len({r["peer"] for r in openai_app.state.requests[-8:]}) == 1


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("reset", 502, "upstream_connection_error"), ("stall", 504, "upstream_timeout")],
)
async def test_failures_after_sending_are_final(
    provider: OpenAICompatProvider, openai_url: str, fault: str, status: int, code: str
) -> None:
    """The request reached the upstream, which may run and bill it: never sent elsewhere."""
    quick = channel(openai_url, read_timeout=0.3)
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat(f"FAULT:{fault}"), quick)
    assert (info.value.status, info.value.code, info.value.retryable) == (status, code, False)


async def test_connect_refused(provider: OpenAICompatProvider) -> None:
    dead = channel(f"http://127.0.0.1:{free_port()}/v1", connect_timeout=1)
    with pytest.raises(UpstreamError) as info:
        await provider.complete(chat("hi"), dead)
    assert info.value.code == "upstream_connection_error" and info.value.retryable


async def test_a_stream_gone_silent_ends_at_the_read_timeout(
    provider: OpenAICompatProvider, openai_url: str
) -> None:
    """The head arrives, then nothing (the fake stalls 3 s): the read timeout still holds
    while the body is read."""
    quick = channel(openai_url, read_timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(UpstreamError) as info:
        async for _ in provider.stream(chat("FAULT:stall"), quick):
            pass
    assert (info.value.status, info.value.code, info.value.retryable) == (
        504,
        "upstream_timeout",
        False,
    )
    assert time.perf_counter() - started < 2.0


async def test_a_stream_whose_head_never_comes_ends_at_the_read_timeout(
    provider: OpenAICompatProvider,
) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the request, never answered
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        quick = channel(f"http://127.0.0.1:{port}/v1", read_timeout=0.3)
        started = time.perf_counter()
        with pytest.raises(UpstreamError) as info:
            async for _ in provider.stream(chat("hi"), quick):
                pass
        assert (info.value.status, info.value.code) == (504, "upstream_timeout")
        assert time.perf_counter() - started < 2.0
    finally:
        server.close()
