"""Continuous batching: one engine thread decodes every active sequence in each llama.cpp batch.

Each step puts the next token of every decoding sequence into one batch, then fills the rest of
the batch with prompt chunks of sequences still prefilling (chunked prefill), so a long prompt
never stalls the others. KV cells are reserved at admission (prompt + max_tokens), so a decode
never runs out of cache. `n` choices of one request share a single prefill: the followers copy
the leader's prompt cells (`seq_cp`) and sample their first token from the leader's logits.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from .detokenize import TextAssembler
from .events import EngineBusy, EngineClosed, EngineEvent, Failed, Finished, TextDelta
from .generation import Generation
from .native import ContextShape, NativeContext, NativeModel
from .sampling import SamplingParams, build_sampler, free_sampler, sample

log = logging.getLogger("modelport.engine")

_Delivery = tuple[Generation, int, EngineEvent]


@dataclass(eq=False)
class _PromptShare:
    """The prompt's KV cells, shared by a request's sequences and freed with the last one."""

    cells: int
    holders: int


@dataclass(eq=False)
class _Sequence:
    handle: Generation
    index: int
    params: SamplingParams
    prompt: list[int]
    sampler: Any
    assembler: TextAssembler
    seq_id: int = -1
    prefilled: int = 0
    position: int = 0
    next_token: int = -1
    generated: int = 0
    share: _PromptShare | None = None
    followers: list[_Sequence] = field(default_factory=list)

    @property
    def decoding(self) -> bool:
        return self.next_token >= 0


class Scheduler:
    def __init__(self, model: NativeModel, shape: ContextShape) -> None:
        self.model = model
        self.shape = shape
        self.max_queue = 64
        self._ctx: NativeContext | None = None
        self._cond = threading.Condition()
        self._pending: deque[_Sequence] = deque()  # leaders of waiting requests
        self._active: list[_Sequence] = []
        self._free_ids = list(range(shape.n_seq_max))
        self._reserved = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._outbox: dict[asyncio.AbstractEventLoop, list[_Delivery]] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._ctx = NativeContext(self.model, self.shape)
        self._thread = threading.Thread(target=self._run, name="modelport-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    # --- stats -----------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        return len(self._pending)

    @property
    def active(self) -> int:
        return len(self._active)

    @property
    def max_context(self) -> int:
        return self.shape.n_ctx

    # --- submission (any thread / the event loop) ---------------------------------------------

    def submit(self, prompt: list[int], choices: list[SamplingParams]) -> Generation:
        """Queue one request with len(choices) sequences sharing `prompt`."""
        if not prompt:
            raise ValueError("the prompt is empty")
        if len(choices) > self.shape.n_seq_max:
            raise ValueError(f"at most {self.shape.n_seq_max} choices per request")
        need = len(prompt) + sum(p.max_tokens for p in choices)
        if need > self.shape.n_ctx:
            raise ValueError(
                f"the prompt ({len(prompt)} tokens) plus the completions asked for "
                f"({need - len(prompt)} tokens) exceed the context of {self.shape.n_ctx} tokens"
            )
        handle = Generation(asyncio.get_running_loop(), len(prompt), len(choices))
        sequences = [
            _Sequence(
                handle=handle,
                index=index,
                params=params,
                prompt=prompt,
                sampler=build_sampler(params, self.model.vocab, self.model.n_vocab),
                assembler=TextAssembler(params.stop),
            )
            for index, params in enumerate(choices)
        ]
        share = _PromptShare(cells=len(prompt), holders=len(sequences))
        for seq in sequences:
            seq.share = share
        leader = sequences[0]
        leader.followers = sequences[1:]
        with self._cond:
            if self._stopping:
                self._free_samplers(sequences)
                raise EngineClosed("the engine is shutting down")
            # Requests that find a free slot start at once; `max_queue` more may wait.
            if len(self._pending) >= self.max_queue + len(self._free_ids):
                self._free_samplers(sequences)
                raise EngineBusy(f"{len(self._pending)} requests are already waiting")
            self._pending.append(leader)
            self._cond.notify()
        return handle

    # --- the engine thread --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._pending and not self._active:
                    self._cond.wait()
                if self._stopping:
                    break
                self._admit()
            try:
                self._drop_cancelled()
                if self._active:
                    self._step()
            except Exception as exc:  # an engine fault must not kill the thread
                log.exception("engine step failed")
                for seq in list(self._active):
                    self._finish(seq, failure=f"engine error: {exc}")
            self._flush_outbox()
        for seq in list(self._active):
            self._finish(seq, failure="the engine is shutting down")
        with self._cond:
            for leader in self._pending:
                for seq in [leader, *leader.followers]:
                    self._emit(seq, Failed("the engine is shutting down"))
                    free_sampler(seq.sampler)
            self._pending.clear()
        self._flush_outbox()

    def _admit(self) -> None:
        """Move waiting requests in (FIFO) while sequence ids and reserved KV cells allow."""
        while self._pending:
            leader = self._pending[0]
            members = [leader, *leader.followers]
            if all(m.handle.cancel_requested for m in members):
                self._pending.popleft()
                for m in members:
                    self._emit(m, Finished("cancelled", len(m.prompt), 0))
                    free_sampler(m.sampler)
                continue
            need = len(leader.prompt) + sum(m.params.max_tokens for m in members)
            fits = self._reserved + need <= self.shape.n_ctx
            if len(members) > len(self._free_ids) or not fits:
                return
            self._pending.popleft()
            self._reserved += need
            for m in members:
                m.seq_id = self._free_ids.pop()
            self._active.extend(members)

    def _drop_cancelled(self) -> None:
        for seq in list(self._active):
            if seq.handle.cancel_requested:
                self._finish(seq, reason="cancelled")

    def _step(self) -> None:
        assert self._ctx is not None
        entries: list[tuple[int, int, int, bool]] = []
        samplers: list[tuple[_Sequence, int]] = []
        for seq in self._active:
            if seq.decoding:
                entries.append((seq.next_token, seq.position, seq.seq_id, True))
                samplers.append((seq, len(entries) - 1))
                seq.position += 1
        budget = self.shape.n_batch - len(entries)
        for seq in self._active:
            if budget <= 0:
                break
            if seq.decoding or seq.prefilled >= len(seq.prompt) or self._is_follower(seq):
                continue
            take = min(budget, len(seq.prompt) - seq.prefilled)
            last = seq.prefilled + take == len(seq.prompt)
            for offset in range(take):
                pos = seq.prefilled + offset
                entries.append((seq.prompt[pos], pos, seq.seq_id, last and offset == take - 1))
            seq.prefilled += take
            seq.position = seq.prefilled
            budget -= take
            if last:
                samplers.append((seq, len(entries) - 1))
                for follower in seq.followers:
                    samplers.append((follower, len(entries) - 1))
        if not entries:
            return
        status = self._ctx.decode(entries)
        if status != 0:
            raise RuntimeError(f"llama_decode returned {status}")
        for seq, index in samplers:
            if seq.handle.cancel_requested:
                continue
            if seq.prefilled < len(seq.prompt):  # a follower: the leader's prompt is now in KV
                self._ctx.copy_sequence(self._leader_of(seq).seq_id, seq.seq_id, len(seq.prompt))
                seq.prefilled = seq.position = len(seq.prompt)
            self._accept(seq, sample(seq.sampler, self._ctx.ptr, index))

    def _accept(self, seq: _Sequence, token: int) -> None:
        if self.model.is_end_of_generation(token):
            self._finish(seq, reason="stop")
            return
        seq.generated += 1
        seq.handle.produced[seq.index] = seq.generated
        text = seq.assembler.feed(self.model.piece(token))
        if text:
            self._emit(seq, TextDelta(text, seq.generated))
        if seq.assembler.stopped:
            self._finish(seq, reason="stop")
        elif seq.generated >= seq.params.max_tokens:
            self._finish(seq, reason="length")
        else:
            seq.next_token = token

    def _finish(
        self,
        seq: _Sequence,
        reason: Literal["stop", "length", "cancelled"] = "stop",
        failure: str | None = None,
    ) -> None:
        assert self._ctx is not None
        if reason != "cancelled" and failure is None:
            tail = seq.assembler.flush()
            if tail:
                self._emit(seq, TextDelta(tail, seq.generated))
        self._active.remove(seq)
        self._ctx.forget(seq.seq_id)
        self._free_ids.append(seq.seq_id)
        self._reserved -= seq.params.max_tokens
        if seq.share is not None:
            seq.share.holders -= 1
            if seq.share.holders == 0:
                self._reserved -= seq.share.cells
        free_sampler(seq.sampler)
        if failure is not None:
            self._emit(seq, Failed(failure))
        else:
            self._emit(seq, Finished(reason, len(seq.prompt), seq.generated))

    def _is_follower(self, seq: _Sequence) -> bool:
        return any(seq in other.followers for other in self._active)

    def _leader_of(self, seq: _Sequence) -> _Sequence:
        for other in self._active:
            if seq in other.followers:
                return other
        raise RuntimeError("a follower lost its leader")

    # --- delivery to the event loop(s) ----------------------------------------------------------

    def _emit(self, seq: _Sequence, event: EngineEvent) -> None:
        self._outbox.setdefault(seq.handle.loop, []).append((seq.handle, seq.index, event))

    def _flush_outbox(self) -> None:
        """One wake-up per event loop per step, not one per token."""
        outbox, self._outbox = self._outbox, {}
        for loop, items in outbox.items():
            try:
                loop.call_soon_threadsafe(_deliver_all, items)
            except RuntimeError:  # that loop has closed; nobody is listening
                log.debug("dropped %d events for a closed loop", len(items))

    @staticmethod
    def _free_samplers(sequences: list[_Sequence]) -> None:
        for seq in sequences:
            free_sampler(seq.sampler)


def _deliver_all(items: list[_Delivery]) -> None:
    for handle, index, event in items:
        handle.deliver(index, event)
