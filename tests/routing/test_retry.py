"""The attempt loop and the stream timeouts, with scripted channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from modelport.protocol.errors import APIError, server_overloaded
from modelport.providers.errors import UpstreamError
from modelport.routing.health import CircuitBreaker
from modelport.routing.retry import Attempts
from modelport.routing.router import ChannelRouter, Route
from modelport.routing.timeouts import WatchedStream, first_batch
from modelport.settings import ChannelConfig, ModelConfig, RoutingSettings


def catalogue_model(n: int) -> ModelConfig:
    """Channels c0..c(n-1), tried in that order (weight-0 spares follow in YAML order)."""
    channels = [ChannelConfig(upstream_model=f"c{i}", weight=int(i == 0)) for i in range(n)]
    return ModelConfig(name="m", channels=channels)


def scripted(
    outcomes: dict[str, UpstreamError | APIError | str],
) -> tuple[list[str], Callable[[Route], Awaitable[str]]]:
    tried: list[str] = []

    async def call(route: Route) -> str:
        name = route.channel.upstream_model or ""
        tried.append(name)
        outcome = outcomes[name]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return tried, call


def retryable(status: int = 502) -> UpstreamError:
    return UpstreamError(status, "down", retryable=True)


async def test_moves_on_after_retryable_failures() -> None:
    router = ChannelRouter(settings=RoutingSettings(max_attempts=3))
    tried, call = scripted({"c0": retryable(), "c1": retryable(429), "c2": "ok"})
    attempts = Attempts(router, catalogue_model(3))
    route, result = await attempts.run(call)
    assert result == "ok" and tried == ["c0", "c1", "c2"] and route.id == "m#2"
    assert attempts.last is route
    assert router.health.breaker("m#0").total_failures == 1
    assert router.health.breaker("m#2").total_successes == 1


async def test_a_client_error_is_the_answer_and_not_a_fault() -> None:
    router = ChannelRouter()
    tried, call = scripted({"c0": APIError(400, "bad tool"), "c1": "ok"})
    with pytest.raises(APIError) as info:
        await Attempts(router, catalogue_model(2)).run(call)
    assert info.value.status == 400 and tried == ["c0"]
    assert router.health.breaker("m#0").total_failures == 0


async def test_engine_backpressure_is_neither_retried_nor_a_fault() -> None:
    router = ChannelRouter(settings=RoutingSettings(breaker_failures=1))
    tried, call = scripted({"c0": server_overloaded(), "c1": "ok"})
    for _ in range(3):
        with pytest.raises(APIError) as info:
            await Attempts(router, catalogue_model(2)).run(call)
        assert info.value.code == "engine_overloaded"
    assert tried == ["c0"] * 3 and router.health.breaker("m#0").state == "closed"


async def test_attempts_are_bounded_and_the_last_error_surfaces() -> None:
    router = ChannelRouter(settings=RoutingSettings(max_attempts=2))
    errors: dict[str, UpstreamError | APIError | str] = {
        f"c{i}": retryable(500 + i) for i in range(4)
    }
    tried, call = scripted(errors)
    with pytest.raises(UpstreamError) as info:
        await Attempts(router, catalogue_model(4)).run(call)
    assert tried == ["c0", "c1"] and info.value is errors["c1"]


async def test_a_non_retryable_upstream_5xx_counts_but_stops() -> None:
    router = ChannelRouter()
    tried, call = scripted({"c0": UpstreamError(502, "broke mid-way"), "c1": "ok"})
    with pytest.raises(UpstreamError):
        await Attempts(router, catalogue_model(2)).run(call)
    assert tried == ["c0"] and router.health.breaker("m#0").total_failures == 1


async def _slow(delays: list[float]) -> AsyncIterator[int]:
    for i, delay in enumerate(delays):
        await asyncio.sleep(delay)
        yield i


async def test_first_batch_timeout_is_retryable() -> None:
    with pytest.raises(UpstreamError) as info:
        await first_batch(_slow([1.0]), 0.05)
    assert info.value.retryable and info.value.code == "first_token_timeout"
    assert await first_batch(_slow([0.0]), 0.5) == 0
    assert await first_batch(_slow([]), None) is None


async def test_idle_timeout_ends_the_stream_and_counts_against_the_channel() -> None:
    breaker = CircuitBreaker(failures=1, window=1, cooldown=60)
    source = _slow([0.0, 0.0, 1.0])
    watched = WatchedStream(source, ChannelConfig(), 0.1, breaker)
    got = [await anext(watched), await anext(watched)]
    with pytest.raises(UpstreamError) as info:
        await anext(watched)
    assert got == [0, 1] and info.value.code == "idle_timeout" and not info.value.retryable
    assert breaker.state == "open"
    await watched.aclose()


async def test_idle_timeout_measures_each_silence_not_the_whole_stream() -> None:
    """Gaps shorter than the idle timeout never end a stream that outlasts it many times;
    a slow reader is not the upstream's silence."""
    breaker = CircuitBreaker(failures=1, window=1, cooldown=60)
    watched = WatchedStream(_slow([0.06] * 6 + [0.0, 0.5]), ChannelConfig(), 0.1, breaker)
    got = [await anext(watched) for _ in range(6)]
    await asyncio.sleep(0.3)  # the reader dawdles; the upstream is not waited on meanwhile
    got.append(await anext(watched))
    with pytest.raises(UpstreamError) as info:
        await anext(watched)
    assert got == list(range(7)) and info.value.code == "idle_timeout"
    await watched.aclose()
