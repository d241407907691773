"""The local models' pool with stand-in engines: one load for concurrent first requests, LRU
eviction of idle models within the budget, a bounded wait for busy ones, keep_alive."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import cast

import pytest

from modelport.engine.config import EngineSettings
from modelport.protocol.errors import APIError
from modelport.providers.base import ProviderDeps
from modelport.providers.local.pool import ModelPool, PoolFull
from modelport.providers.local.provider import LocalProvider
from modelport.settings import ChannelConfig, Settings


@dataclass
class Fake:
    path: str
    closed: bool = False


@dataclass
class Loader:
    loads: list[str] = field(default_factory=list)
    unloads: list[str] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def load(self, path: str) -> Fake:
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        self.loads.append(path)
        return Fake(path)

    def unload(self, engine: Fake) -> None:
        engine.closed = True
        self.unloads.append(engine.path)


def pool(loader: Loader, budget: int = 100, wait: float = 0.3) -> ModelPool[Fake]:
    return ModelPool(loader.load, loader.unload, lambda path: 60, budget=budget, wait=wait)


def test_concurrent_first_requests_load_once_off_the_loop() -> None:
    loader = Loader()

    async def run() -> None:
        models = pool(loader)

        async def use() -> Fake:
            async with models.lease("a", 300) as engine:
                await asyncio.sleep(0.01)
                return engine

        engines = await asyncio.gather(*(use() for _ in range(5)))
        assert len({id(e) for e in engines}) == 1
        assert models.state("a").loaded and models.state("a").expires_at
        await models.aclose()

    asyncio.run(run())
    assert loader.loads == ["a"] and threading.main_thread().name not in loader.threads


def test_the_budget_unloads_the_least_recently_used_idle_model() -> None:
    loader = Loader()

    async def run() -> None:
        models = pool(loader, budget=130)  # two fit, not three
        for path in ("a", "b", "a", "c"):
            async with models.lease(path, 300):
                pass
        assert [p for p, _, _ in models.engines()] == ["a", "c"]  # b was least recently used
        await models.aclose()

    asyncio.run(run())
    assert loader.unloads[0] == "b"


def test_a_busy_model_is_never_unloaded_a_load_waits_then_gives_up() -> None:
    loader = Loader()

    async def run() -> None:
        models = pool(loader, budget=100, wait=0.3)
        async with models.lease("a", 300) as busy:
            started = time.monotonic()
            with pytest.raises(PoolFull):
                async with models.lease("b", 300):
                    pass
            assert time.monotonic() - started >= 0.3 and not busy.closed

            async def later() -> None:
                await asyncio.sleep(0.1)

            waiter = asyncio.create_task(_use(models, "b"))
            await later()
            assert not waiter.done() and not busy.closed
        assert await waiter == "b"  # a came free: unloaded, b loaded
        assert busy.closed and [p for p, _, _ in models.engines()] == ["b"]
        await models.aclose()

    asyncio.run(run())


async def _use(models: ModelPool[Fake], path: str) -> str:
    async with models.lease(path, 300) as engine:
        return engine.path


def test_keep_alive_unloads_an_idle_model_zero_at_once_minus_one_never() -> None:
    loader = Loader()

    async def run() -> None:
        models = pool(loader, budget=1000)
        async with models.lease("soon", 0.2):
            pass
        async with models.lease("now", 0):
            pass
        async with models.lease("never", -1):
            pass
        await asyncio.sleep(0.05)
        assert not models.state("now").loaded and models.state("soon").loaded
        assert models.state("never").expires_at is None
        await asyncio.sleep(0.3)
        assert not models.state("soon").loaded and models.state("never").loaded
        async with models.lease("soon", 300) as engine:  # loaded again on use
            assert not engine.closed
        await models.aclose()

    asyncio.run(run())
    assert loader.loads.count("soon") == 2


def test_retire_waits_for_the_last_lease() -> None:
    loader = Loader()

    async def run() -> None:
        models = pool(loader, budget=1000)
        async with models.lease("a", -1) as engine:
            await models.retire("a")
            assert not engine.closed  # in use: kept until released
        await asyncio.sleep(0.05)
        assert engine.closed and not models.state("a").loaded

    asyncio.run(run())


def test_the_provider_answers_a_full_pool_with_a_503_and_retry_after() -> None:
    settings = Settings(engine=EngineSettings(load_wait=0))
    provider = LocalProvider(cast(ProviderDeps, SimpleNamespace(settings=settings)))

    async def run() -> None:
        async def full(path: str) -> None:
            raise PoolFull(path)

        provider.pool._slot = full  # type: ignore[method-assign,assignment]
        with pytest.raises(APIError) as caught:
            async with provider.lease(ChannelConfig(provider="local")):
                pass
        assert caught.value.status == 503 and caught.value.code == "model_overloaded"
        assert caught.value.headers["Retry-After"]
        await provider.aclose()

    asyncio.run(run())
