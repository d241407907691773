"""Continuous batching over one or more lanes that share the model's weights.

A request (all its `n` choices) runs in one lane, whose thread decodes every sequence it holds
in each llama.cpp batch (see `lane.py`). Requests wait in one shared FIFO; the least busy lane
with room takes the next, so four streams on two lanes run two and two.

One lane is the default: the batch's matrix products share each pass over the weights, and a
batch goes wide (every core) when that is faster (`width.py`). More lanes trade some of that
for isolation: a long prompt prefilling in one lane does not slow the streams of another.
"""

from __future__ import annotations

import asyncio
import logging

from .detokenize import TextAssembler
from .events import EngineBusy, EngineClosed, Failed
from .generation import Generation
from .intake import Intake
from .lane import Lane
from .native import ContextShape, NativeModel
from .sampling import SamplingParams, build_sampler, free_sampler
from .sequence import PromptShare, Sequence

log = logging.getLogger("modelport.engine")


class Scheduler:
    def __init__(
        self,
        model: NativeModel,
        shapes: list[ContextShape],
        *,
        max_queue: int = 64,
        prefill_chunk: int = 64,
        wide_threads: int = 1,
        prefix_cache: bool = True,
    ) -> None:
        if not shapes:
            raise ValueError("at least one lane is needed")
        self.model = model
        self._intake = Intake(max_queue, prefill_chunk, wide_threads, prefix_cache)
        self.lanes = [
            Lane(f"modelport-engine-{i}", model, shape, self._intake)
            for i, shape in enumerate(shapes)
        ]
        self._intake.lanes = list(self.lanes)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        for lane in self.lanes:
            lane.start()

    def stop(self) -> None:
        intake = self._intake
        with intake.cond:
            intake.stopping = True
            intake.cond.notify_all()
        for lane in self.lanes:
            lane.join(timeout=30)
        with intake.cond:
            for leader in intake.pending:
                for seq in leader.members:
                    self.lanes[0].emit(seq, Failed("the engine is shutting down"))
                    free_sampler(seq.sampler)
            intake.pending.clear()
        self.lanes[0].flush_outbox()
        for lane in self.lanes:
            lane.close()

    # --- stats -----------------------------------------------------------------------------------

    @property
    def max_queue(self) -> int:
        return self._intake.max_queue

    @max_queue.setter
    def max_queue(self, value: int) -> None:
        self._intake.max_queue = value

    @property
    def queued(self) -> int:
        return len(self._intake.pending)

    @property
    def active(self) -> int:
        return sum(lane.load for lane in self.lanes)

    @property
    def reserved(self) -> int:
        """KV cells reserved by running requests, over all lanes."""
        return sum(lane.reserved for lane in self.lanes)

    @property
    def max_context(self) -> int:
        """The longest prompt + completions one request may take: the largest lane's cache."""
        return max(lane.shape.n_ctx for lane in self.lanes)

    @property
    def max_choices(self) -> int:
        return max(lane.shape.n_seq_max for lane in self.lanes)

    # --- submission (any thread / the event loop) ---------------------------------------------

    def submit(self, prompt: list[int], choices: list[SamplingParams]) -> Generation:
        """Queue one request with len(choices) sequences sharing `prompt`."""
        if not prompt:
            raise ValueError("the prompt is empty")
        if len(choices) > self.max_choices:
            raise ValueError(f"at most {self.max_choices} choices per request")
        need = len(prompt) + sum(p.max_tokens for p in choices)
        if need > self.max_context:
            raise ValueError(
                f"the prompt ({len(prompt)} tokens) plus the completions asked for "
                f"({need - len(prompt)} tokens) exceed the context of {self.max_context} tokens"
            )
        handle = Generation(asyncio.get_running_loop(), len(prompt), len(choices))
        sequences = [
            Sequence(
                handle=handle,
                index=index,
                params=params,
                prompt=prompt,
                sampler=build_sampler(params, self.model.vocab, self.model.n_vocab),
                assembler=TextAssembler(params.stop),
            )
            for index, params in enumerate(choices)
        ]
        share = PromptShare(cells=len(prompt), holders=len(sequences))
        for seq in sequences:
            seq.share = share
        leader = sequences[0]
        leader.followers = sequences[1:]
        intake = self._intake
        with intake.cond:
            if intake.stopping:
                _free_samplers(sequences)
                raise EngineClosed("the engine is shutting down")
            if not any(lane.fits(leader) for lane in self.lanes):
                _free_samplers(sequences)
                raise ValueError("no lane of this engine is large enough for the request")
            # Requests that find a free slot start at once; `max_queue` more may wait.
            free = sum(lane.free_slots for lane in self.lanes)
            if len(intake.pending) >= intake.max_queue + free:
                _free_samplers(sequences)
                raise EngineBusy(f"{len(intake.pending)} requests are already waiting")
            intake.pending.append(leader)
            intake.cond.notify_all()
        return handle


def _free_samplers(sequences: list[Sequence]) -> None:
    for seq in sequences:
        free_sampler(seq.sampler)
