"""The prefix cache: a finished request's KV cells serve the next request that starts the
same way. Unit tests on a recorded memory, then the real model: greedy output is the same
with the cache as without, and a conversation's next turn prefills only what is new."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from modelport.engine.config import EngineSettings
from modelport.engine.engine import LocalEngine
from modelport.engine.events import Finished, TextDelta
from modelport.engine.generation import Generation
from modelport.engine.logprobs import TokenLogprob
from modelport.engine.prefix_cache import MIN_REUSE, PrefixCache, common_prefix
from modelport.engine.sampling import SamplingParams
from modelport.settings import default_gguf_path


class RecordedMemory:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int, int]] = []

    def forget(self, seq_id: int) -> None:
        self.calls.append(("forget", seq_id, -1, -1))

    def copy_sequence(self, src: int, dst: int, upto: int) -> None:
        self.calls.append(("copy", src, dst, upto))


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], [1, 2, 3, 4]) == 3
    assert common_prefix([1, 2, 3], [1, 9, 3]) == 1
    assert common_prefix([], [1]) == 0
    long = list(range(1000))
    assert common_prefix(long, [*long[:777], -1, *long[778:]]) == 777


def test_entries_are_reused_superseded_and_dropped_least_recent_first() -> None:
    memory, free = RecordedMemory(), [5, 6]
    cache = PrefixCache(memory, free)
    first = list(range(100))
    assert cache.keep(1, first)
    assert not cache.keep(2, list(range(MIN_REUSE - 1)))  # too short to be worth keeping
    entry, length = cache.best([*first[:60], -1, -2])
    assert entry is not None and length == 60
    assert cache.reuse(entry, length, 7) == 60 and memory.calls[-1] == ("copy", 1, 7, 60)
    # the whole prompt cached: its last token is still decoded, for its logits
    assert cache.best(first)[1] == 99
    # a longer entry starting with the first supersedes it
    assert cache.keep(3, [*first, 100, 101])
    assert [e.seq_id for e in cache.entries] == [3] and free == [5, 6, 1]
    assert cache.keep(4, [-5] * 40)
    assert cache.cells == 102 + 40
    cache.shrink_to(100)  # the least recently used goes first
    assert [e.seq_id for e in cache.entries] == [4] and free[-1] == 3
    free.clear()
    spare, _ = cache.best([-5] * 30)
    assert cache.keep(8, list(range(500, 540)))
    cache.free_ids_for(1, spare=spare)  # the one about to be reused stays
    assert [e.seq_id for e in cache.entries] == [4] and free == [8]
    disabled = PrefixCache(memory, [])
    disabled.enabled = False
    assert not disabled.keep(9, first)


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[LocalEngine, LocalEngine]]:
    settings = EngineSettings(slots=4, context_per_slot=1024, n_threads=1)
    cached = LocalEngine(default_gguf_path(), settings)
    plain = LocalEngine(default_gguf_path(), settings.model_copy(update={"prefix_cache": False}))
    yield cached, plain
    cached.close()
    plain.close()


async def run(
    engine: LocalEngine, prompt: list[int], max_tokens: int = 24, temperature: float = 0.7
) -> tuple[str, Finished]:
    generation: Generation = engine.submit(
        prompt, [SamplingParams(temperature=temperature, max_tokens=max_tokens)]
    )
    text = ""
    final: Finished | None = None
    async for _, event in generation.events():
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Finished):
            final = event
    assert final is not None
    return text, final


HISTORY = [
    {"role": "system", "content": "You are a patient tutor of physics. " * 12},
    {"role": "user", "content": "What is momentum? Explain with an example about trains."},
    {"role": "assistant", "content": "Momentum is mass times velocity. " * 20},
    {"role": "user", "content": "And what is kinetic energy? Compare it with momentum."},
]


async def first_position(
    engine: LocalEngine, prompt: list[int], temperature: float = 0.7
) -> tuple[TokenLogprob, int]:
    """The model's distribution at the answer's first position (logprobs are the model's,
    before sampling) and the prompt tokens the cache held."""
    params = SamplingParams(temperature=temperature, max_tokens=1, logprobs=3)
    generation = engine.submit(prompt, [params])
    logprobs: list[TokenLogprob] = []
    cached = -1
    async for _, event in generation.events():
        if isinstance(event, TextDelta):
            logprobs.extend(event.logprobs)
        elif isinstance(event, Finished):
            cached = event.cached_tokens
    return logprobs[0], cached


async def test_cached_cells_give_the_model_the_same_distribution(
    engines: tuple[LocalEngine, LocalEngine],
) -> None:
    """The distribution after a reused prefix is the one without the cache (up to the float
    rounding of a differently batched prefill): cells missing, or at wrong positions, would
    change it outright."""
    cached, plain = engines
    prompt = cached.render([*HISTORY, {"role": "user", "content": "Which is conserved?"}])
    _, first_cached = await first_position(cached, prompt)
    again, again_cached = await first_position(cached, prompt)
    reference, reference_cached = await first_position(plain, prompt)
    assert first_cached == 0 and reference_cached == 0
    assert again_cached == len(prompt) - 1  # all but the last prompt token
    assert again.top[0].token == reference.top[0].token
    assert abs(again.top[0].logprob - reference.top[0].logprob) < 0.05


async def test_reproducible_requests_are_prefilled_in_full(
    engines: tuple[LocalEngine, LocalEngine],
) -> None:
    """Greedy or seeded requests give the same text every time: they do not take cells
    computed in other batches (rounding could flip a near tie)."""
    cached, _ = engines
    prompt = cached.render([*HISTORY, {"role": "user", "content": "Say it in one line."}])
    first, first_done = await run(cached, prompt, temperature=0.0)
    again, again_done = await run(cached, prompt, temperature=0.0)
    assert first == again and first_done.cached_tokens == again_done.cached_tokens == 0
    seeded = SamplingParams(temperature=0.9, seed=7, max_tokens=16)
    texts = []
    for _ in range(2):
        generation = cached.submit(prompt, [seeded])
        text = ""
        async for _, event in generation.events():
            if isinstance(event, TextDelta):
                text += event.text
        texts.append(text)
    assert texts[0] == texts[1]


async def test_the_next_turn_prefills_only_what_is_new(
    engines: tuple[LocalEngine, LocalEngine],
) -> None:
    cached, _ = engines
    turn = [*HISTORY, {"role": "user", "content": "Give me one formula for each."}]
    prompt = cached.render(turn)
    answer, _ = await run(cached, prompt, max_tokens=32)
    follow_up = [
        *turn,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "Thank you. Now a harder question, please."},
    ]
    next_prompt = cached.render(follow_up)
    _, next_done = await run(cached, next_prompt)
    # at least the whole first prompt came from the cache (and usually its answer too)
    assert next_done.cached_tokens >= len(prompt)
    assert next_done.prompt_tokens == len(next_prompt)
    await asyncio.sleep(0.05)
    assert cached.scheduler.active == 0 and cached.scheduler.reserved == 0


async def test_many_prompts_evict_old_entries_and_every_request_completes(
    engines: tuple[LocalEngine, LocalEngine],
) -> None:
    cached, _ = engines
    prompts = [
        cached.render([{"role": "user", "content": f"Topic {i}: " + "words about things " * 60}])
        for i in range(12)
    ]
    results = await asyncio.gather(*(run(cached, p, max_tokens=8) for p in prompts))
    assert all(final.completion_tokens > 0 for _, final in results)
    lane = cached.scheduler.lanes[0]
    assert lane.cache is not None
    assert len(lane.cache) <= lane.shape.n_seq_max
    assert lane.cache.cells + lane.reserved <= lane.shape.n_ctx
