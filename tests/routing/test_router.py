"""The weighted plan: order, health filtering, attempt bounds, key-ring retries."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from modelport.providers.errors import UpstreamError
from modelport.routing.router import ChannelRouter
from modelport.settings import ChannelConfig, ModelConfig, RoutingSettings


def model(*weights: int, keys: int = 1) -> ModelConfig:
    channels = [
        ChannelConfig(
            provider="openai_compat",
            upstream_model=f"up-{i}",
            api_keys=[f"k{i}-{j}" for j in range(keys)],
            weight=w,
        )
        for i, w in enumerate(weights)
    ]
    return ModelConfig(name="m", channels=channels)


def test_weights_decide_the_first_choice() -> None:
    router = ChannelRouter(rng=random.Random(7))
    m = model(6, 3, 1)
    firsts = Counter(router.order(m)[0] for _ in range(3000))
    assert 1650 <= firsts[0] <= 1950 and 750 <= firsts[1] <= 1050 and 200 <= firsts[2] <= 400


def test_zero_weight_channels_come_last() -> None:
    router = ChannelRouter(rng=random.Random(1))
    for _ in range(50):
        assert router.order(model(0, 1, 0, 1))[2:] == [0, 2]


def test_plan_is_bounded_and_skips_open_circuits() -> None:
    router = ChannelRouter(settings=RoutingSettings(max_attempts=2, breaker_failures=1))
    m = model(1, 1, 1)
    assert len(router.plan(m)) == 2
    router.health.breaker("m#1").failure()
    for _ in range(20):
        assert "m#1" not in [r.id for r in router.plan(m)]


def test_all_open_is_a_503_with_retry_after() -> None:
    settings = RoutingSettings(breaker_failures=1, breaker_cooldown=5)
    router = ChannelRouter(settings=settings)
    m = model(1, 1)
    router.health.breaker("m#0").failure()
    router.health.breaker("m#1").failure()
    with pytest.raises(UpstreamError) as info:
        router.plan(m)
    assert info.value.status == 503 and info.value.code == "no_healthy_channel"
    assert info.value.headers == {"Retry-After": "5"}


def test_a_lone_channel_with_several_keys_is_retried() -> None:
    router = ChannelRouter(settings=RoutingSettings(max_attempts=3))
    assert [r.id for r in router.plan(model(1, keys=2))] == ["m#0", "m#0", "m#0"]
    assert [r.id for r in router.plan(model(1, keys=1))] == ["m#0"]
