"""Testing a channel with one small real request, against the fake OpenAI-compatible API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from modelport.channels.probe import ProbeResult, probe_channel
from modelport.providers.base import ProviderDeps
from modelport.providers.http_client import UpstreamHTTP
from modelport.providers.registry import ProviderRegistry
from modelport.settings import ChannelConfig, Settings
from tests.fakes.hostile_upstream import HostileUpstream
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi

GOOD, SLOW, SPENT = "sk-probe-good-0123456789", "sk-probe-slow-0123456789", "sk-probe-spent-012345"


@pytest.fixture(scope="module")
def upstream() -> Any:
    app = create_app(keys=frozenset({GOOD, SLOW, SPENT}))
    app.state.key_faults = {SLOW: "stall", SPENT: "quota"}
    app.state.stall_seconds = 0.4
    return app


@pytest.fixture(scope="module")
def url(upstream: Any) -> Iterator[str]:
    with serve_asgi(upstream) as base:
        yield base + "/v1"


def registry() -> tuple[ProviderRegistry, UpstreamHTTP]:
    settings = Settings()
    http = UpstreamHTTP(settings.upstream)
    return ProviderRegistry(ProviderDeps(settings=settings, http=http)), http


@pytest.fixture
async def providers() -> AsyncIterator[ProviderRegistry]:
    providers, http = registry()
    yield providers
    await http.aclose()


def channel(url: str, key: str, **fields: Any) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat", base_url=url, api_key=key, upstream_model="up-model", **fields
    )


async def test_ok_sends_a_tiny_request(
    url: str, upstream: Any, providers: ProviderRegistry
) -> None:
    result = await probe_channel(channel(url, GOOD), "public-model", providers)
    assert result.ok and (result.status, result.error, result.code) == (None, None, None)
    sent = upstream.state.requests[-1]
    assert sent["key"] == GOOD
    body = sent["body"]
    assert body["model"] == "up-model"
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["max_tokens"] == 1 and body["stream"] is False


async def test_latency_is_the_upstreams(url: str, providers: ProviderRegistry) -> None:
    result = await probe_channel(channel(url, SLOW), "public-model", providers)
    assert result.ok
    assert 400 <= result.latency_ms < 5000  # the fake waits 0.4 s before answering


async def test_a_refused_key_keeps_the_vendors_words(url: str, providers: ProviderRegistry) -> None:
    result = await probe_channel(channel(url, "sk-probe-wrong-0123"), "m", providers)
    assert not result.ok
    assert (result.status, result.code) == (401, "invalid_api_key")  # the vendor's status
    # the fake quotes the key's start, as OpenAI does: that much is hidden too
    assert (
        result.error == "Incorrect API key provided: [redacted]. You can find your API key at ..."
    )


async def test_a_spent_account(url: str, providers: ProviderRegistry) -> None:
    result = await probe_channel(channel(url, SPENT), "m", providers)
    assert (result.ok, result.status, result.code) == (False, 429, "insufficient_quota")
    assert result.error is not None and result.error.startswith("You exceeded your current quota")


async def test_a_key_quoted_by_the_upstream_is_redacted() -> None:
    key = "plain-secret-0123456789abcdef"  # not shaped like a credential: only we know it
    hostile = HostileUpstream()
    providers, http = registry()
    with hostile.running() as base:
        try:
            result = await probe_channel(channel(base + "/echo-key/v1", key), "m", providers)
        finally:
            await http.aclose()  # before the server stops: no connection left to it
            await asyncio.sleep(0.2)  # for the server to see it close
    assert hostile.last_authorization == f"Bearer {key}"  # it did quote our key
    assert (result.ok, result.status, result.code) == (False, 401, "invalid_api_key")
    assert result.error is not None and "[redacted]" in result.error
    assert "0123456789" not in result.error and "plain-se" not in result.error


async def test_no_answer_in_time(url: str, providers: ProviderRegistry) -> None:
    result = await probe_channel(channel(url, SLOW), "m", providers, timeout=0.1)
    assert result == ProbeResult(False, result.latency_ms, 504, "no answer within 0.1 s", "timeout")
    assert 100 <= result.latency_ms < 400


async def test_an_unreachable_upstream_is_a_result(providers: ProviderRegistry) -> None:
    result = await probe_channel(channel("http://127.0.0.1:9/v1", GOOD), "m", providers)
    assert not result.ok and result.code == "upstream_connection_error"
    assert result.error is not None and GOOD not in result.error


async def test_an_unknown_provider_is_a_result(providers: ProviderRegistry) -> None:
    config = ChannelConfig(provider="nobody", base_url="http://127.0.0.1:9", api_key=GOOD)
    result = await probe_channel(config, "m", providers)
    assert (result.ok, result.status) == (False, 500)
    assert result.error == "unknown provider 'nobody'"
