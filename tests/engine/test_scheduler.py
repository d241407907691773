"""The continuous-batching scheduler, driven in-process on the real model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from modelport.engine.config import EngineSettings
from modelport.engine.engine import LocalEngine
from modelport.engine.events import EngineBusy, Finished, TextDelta
from modelport.engine.generation import Generation
from modelport.engine.sampling import SamplingParams
from modelport.settings import default_gguf_path


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    local = LocalEngine(default_gguf_path(), EngineSettings(slots=4, context_per_slot=512))
    yield local
    local.close()


def prompt(engine: LocalEngine, text: str = "Tell me a story.") -> list[int]:
    return engine.render([{"role": "user", "content": text}])


async def drain(generation: Generation) -> tuple[list[str], list[Finished]]:
    texts = [""] * generation.n
    finals: list[Finished] = []
    async for index, event in generation.events():
        if isinstance(event, TextDelta):
            texts[index] += event.text
        elif isinstance(event, Finished):
            finals.append(event)
    return texts, finals


async def test_concurrent_requests_progress_together(engine: LocalEngine) -> None:
    """Deltas of four requests interleave: they are decoded in the same batches."""
    order: list[int] = []

    async def run(tag: int) -> None:
        generation = engine.submit(prompt(engine), [SamplingParams(max_tokens=20, seed=tag)])
        async for _, event in generation.events():
            if isinstance(event, TextDelta):
                order.append(tag)

    await asyncio.gather(*(run(tag) for tag in range(4)))
    first_done = min(max(i for i, t in enumerate(order) if t == tag) for tag in range(4))
    assert len(set(order[: first_done + 1])) == 4, "all four streams were producing together"


async def test_n_choices_share_one_prefill_and_differ(engine: LocalEngine) -> None:
    choices = [SamplingParams(temperature=1.3, seed=s, max_tokens=12) for s in (1, 2)]
    texts, finals = await drain(engine.submit(prompt(engine), choices))
    assert len(finals) == 2 and all(f.prompt_tokens == finals[0].prompt_tokens for f in finals)
    assert len(set(texts)) > 1


async def test_cancel_stops_at_once_and_frees_the_slot(engine: LocalEngine) -> None:
    generation = engine.submit(prompt(engine), [SamplingParams(max_tokens=400)])
    events: AsyncIterator[tuple[int, object]] = generation.events()
    for _ in range(3):
        await anext(events)
    assert await generation.cancelled()
    final = generation.finals[0]
    assert final is not None and final.reason == "cancelled"
    assert final.completion_tokens == generation.completion_tokens() < 400
    await asyncio.sleep(0.05)
    assert engine.scheduler.active == 0 and engine.scheduler.reserved == 0


async def test_queue_full_is_refused(engine: LocalEngine) -> None:
    scheduler = engine.scheduler
    old = scheduler.max_queue
    scheduler.max_queue = 0
    running = [engine.submit(prompt(engine), [SamplingParams(max_tokens=300)]) for _ in range(4)]
    try:
        await asyncio.sleep(0.2)  # all four admitted: every slot busy
        with pytest.raises(EngineBusy):
            engine.submit(prompt(engine), [SamplingParams(max_tokens=5)])
    finally:
        scheduler.max_queue = old
        for generation in running:
            await generation.cancelled()


async def test_kv_reservation_queues_instead_of_overflowing() -> None:
    """Requests whose reservations exceed the cache wait their turn and all finish."""
    settings = EngineSettings(slots=3, context_per_slot=96, lanes=1)
    small = LocalEngine(default_gguf_path(), settings)
    try:
        tokens = prompt(small, "word " * 100)
        budget = small.context_size // 2 - len(tokens)
        assert 0 < budget <= 16, budget  # two requests at most fit the cache at once
        runs = [small.submit(tokens, [SamplingParams(max_tokens=budget)]) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert small.scheduler.active <= 2 and small.scheduler.queued >= 1
        results = await asyncio.gather(*(drain(g) for g in runs))
        assert all(finals and finals[0].reason in ("stop", "length") for _, finals in results)
        assert small.scheduler.reserved == 0
    finally:
        small.close()


async def test_prompt_longer_than_the_context_is_refused(engine: LocalEngine) -> None:
    with pytest.raises(ValueError, match="exceed the context"):
        engine.submit([1] * (engine.context_size + 1), [SamplingParams(max_tokens=1)])
