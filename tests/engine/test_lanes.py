"""Lanes: independent contexts decoding side by side, fed from one shared FIFO."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from modelport.engine.config import EngineSettings
from modelport.engine.engine import LocalEngine, lane_shapes
from modelport.engine.events import Finished
from modelport.engine.generation import Generation
from modelport.engine.sampling import SamplingParams
from modelport.engine.width import StepWidth
from modelport.settings import default_gguf_path


def prompt(engine: LocalEngine) -> list[int]:
    return engine.render([{"role": "user", "content": "Tell me a story."}])


def endless(max_tokens: int) -> SamplingParams:
    """A generation of exactly `max_tokens` (end-of-generation tokens banned)."""
    return SamplingParams(max_tokens=max_tokens, seed=1, logit_bias={0: -100.0, 2: -100.0})


async def finish(generation: Generation) -> Finished:
    final = None
    async for _, event in generation.events():
        if isinstance(event, Finished):
            final = event
    assert final is not None
    return final


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


def test_slots_cells_and_threads_are_split_over_the_lanes() -> None:
    settings = EngineSettings(lanes=2, slots=8, context_per_slot=256, n_threads=2)
    shapes = lane_shapes(settings, n_ctx_train=8192)
    assert [(s.n_seq_max, s.n_ctx, s.n_threads_batch) for s in shapes] == [(4, 1024, 2)] * 2
    odd = lane_shapes(EngineSettings(lanes=2, slots=3, context_per_slot=100), 8192)
    assert [(s.n_seq_max, s.n_ctx) for s in odd] == [(2, 200), (1, 100)]
    assert len(lane_shapes(EngineSettings(lanes=4, slots=2), 8192)) == 2  # never an empty lane


async def test_concurrent_requests_are_spread_evenly_and_decode_together() -> None:
    engine = LocalEngine(default_gguf_path(), EngineSettings(lanes=2, slots=4))
    try:
        runs = [engine.submit(prompt(engine), [endless(400)]) for _ in range(4)]
        await wait_until(lambda: engine.scheduler.active == 4)
        assert [lane.load for lane in engine.scheduler.lanes] == [2, 2]
        # All four make progress together: each has tokens while none is anywhere near done.
        await wait_until(lambda: all(g.completion_tokens() > 0 for g in runs))
        produced = [generation.completion_tokens() for generation in runs]
        assert all(0 < n < 200 for n in produced), produced
        for generation in runs:
            assert await generation.cancelled()
        assert engine.scheduler.active == 0 and engine.scheduler.reserved == 0
    finally:
        engine.close()


async def test_a_waiting_request_takes_whichever_lane_frees_first() -> None:
    engine = LocalEngine(default_gguf_path(), EngineSettings(lanes=2, slots=2, max_queue=4))
    try:
        long = engine.submit(prompt(engine), [endless(600)])
        short = engine.submit(prompt(engine), [endless(5)])
        waiting = engine.submit(prompt(engine), [endless(5)])
        await asyncio.sleep(0.05)
        assert engine.scheduler.queued == 1
        assert (await finish(short)).completion_tokens == 5
        assert (await finish(waiting)).completion_tokens == 5  # ran in the short one's lane
        assert not long.done, "the waiting request did not queue behind the long one"
        assert await long.cancelled()
    finally:
        engine.close()


async def test_all_choices_of_a_request_run_in_one_lane() -> None:
    engine = LocalEngine(default_gguf_path(), EngineSettings(lanes=2, slots=3))
    try:
        assert engine.max_choices == 2
        with pytest.raises(ValueError, match="at most 2 choices"):
            engine.submit(prompt(engine), [endless(3)] * 3)
        pair = engine.submit(prompt(engine), [endless(3), endless(3)])
        assert (await finish(pair)).completion_tokens == 3 and pair.completion_tokens() == 6
    finally:
        engine.close()


def test_prefill_width_follows_the_faster_width_and_probes_the_other() -> None:
    width = StepWidth(probe_every=4)
    assert width.choose() is True  # nothing known: try wide first
    width.record(True, seconds=0.5, tokens=64)
    assert width.choose() is False  # then narrow, to compare
    width.record(False, seconds=0.25, tokens=64)  # narrow was faster (a busy machine)
    choices = [width.choose() for _ in range(8)]
    assert choices.count(True) == 2 and choices.count(False) == 6  # wide only as a probe
    width.record(True, seconds=0.01, tokens=64)  # the machine went quiet
    width.record(True, seconds=0.01, tokens=64)
    width.record(True, seconds=0.01, tokens=64)
    assert width.choose() is True
    width.record(False, seconds=10.0, tokens=1)  # a single token runs narrow anyway
    assert width.ms_per_token[False] == pytest.approx(250 / 64)


async def test_a_lone_long_prompt_prefills_on_every_core() -> None:
    settings = EngineSettings(lanes=2, slots=2, n_threads_batch=2, prefill_chunk=64)
    engine = LocalEngine(default_gguf_path(), settings)
    try:
        long_prompt = engine.render([{"role": "user", "content": "tell me more " * 120}])
        await finish(engine.submit(long_prompt, [endless(2)]))
        timed = [lane._widths[True].ms_per_token for lane in engine.scheduler.lanes]
        assert any(t[True] is not None for t in timed), "no prefill step ran wide"
        assert engine.scheduler._intake.wide is None  # the cores were given back
    finally:
        engine.close()


async def test_streams_keep_decoding_while_a_long_prompt_prefills_in_their_lane() -> None:
    settings = EngineSettings(lanes=1, slots=2, prefill_chunk=64)
    engine = LocalEngine(default_gguf_path(), settings)
    try:
        running = engine.submit(prompt(engine), [endless(300)])
        await wait_until(lambda: running.completion_tokens() > 0)
        long_prompt = engine.render([{"role": "user", "content": "tell me more " * 300}])
        assert len(long_prompt) > 900
        before = running.completion_tokens()
        newcomer = engine.submit(long_prompt, [endless(1)])
        await wait_until(lambda: newcomer.completion_tokens() > 0, timeout=60)
        during = running.completion_tokens() - before
        # One token of the running stream per 64-token prompt chunk (~15 chunks); a prefill
        # in one big batch would have stalled it for the whole prompt.
        assert during >= len(long_prompt) // 64 - 2, during
        await finish(newcomer)
        assert await running.cancelled()
    finally:
        engine.close()


async def test_a_request_cancelled_before_it_runs_is_told_at_once() -> None:
    """A lane that finds nothing left to run after dropping a cancelled request still
    delivers its `Finished("cancelled")` before going idle."""
    engine = LocalEngine(default_gguf_path(), EngineSettings(slots=2))
    try:
        generation = engine.submit(prompt(engine), [endless(300)])
        started = asyncio.get_running_loop().time()
        assert await generation.cancelled(timeout=5.0)
        assert asyncio.get_running_loop().time() - started < 2.0
        final = generation.finals[0]
        assert final is not None and final.reason == "cancelled"
        assert engine.scheduler.active == 0 and engine.scheduler.queued == 0
    finally:
        engine.close()
