"""One lane: a llama.cpp context (its own KV cache) and the thread that decodes it.

Each step puts the next token of every decoding sequence into one batch, then fills the rest of
the batch with prompt chunks of sequences still prefilling (chunked prefill), so a long prompt
never stalls the others. KV cells are reserved at admission (prompt + max_tokens), so a decode
never runs out of cache. `n` choices of one request share a single prefill: the followers copy
the leader's prompt cells (`seq_cp`) and sample their first token from the leader's logits.

Lanes run side by side: llama.cpp releases the GIL while it decodes, so two lanes keep two
cores busy without OpenMP's spin-waiting barriers between them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Literal

from .events import EngineEvent, Failed, Finished, TextDelta
from .generation import Generation
from .intake import Intake
from .logprobs import TokenLogprob, token_logprob
from .native import ContextShape, NativeContext, NativeModel
from .prefix_cache import PrefixCache
from .sampling import free_sampler, sample
from .sequence import Sequence
from .width import StepWidth

log = logging.getLogger("modelport.engine")

_Delivery = tuple[Generation, int, EngineEvent]
# An idle lane re-checks the queue this often while requests wait that it declined (another
# lane looked better placed); a hint, so never trusted to stay true.
_RECHECK_S = 0.05


class Lane:
    def __init__(self, name: str, model: NativeModel, shape: ContextShape, intake: Intake) -> None:
        self.name = name
        self.model = model
        self.shape = shape
        self.intake = intake
        self._ctx: NativeContext | None = None
        self.cache: PrefixCache | None = None  # made with the context
        self._active: list[Sequence] = []
        self._free_ids = list(range(shape.n_seq_max))
        self.reserved = 0
        self._thread: threading.Thread | None = None
        self._outbox: dict[asyncio.AbstractEventLoop, list[_Delivery]] = {}
        # Wide or narrow, learned apart for prefill steps and for decode-only steps.
        self._widths = {True: StepWidth(), False: StepWidth()}

    # --- what the other lanes and the scheduler read --------------------------------------------

    @property
    def load(self) -> int:
        return len(self._active)

    @property
    def free_slots(self) -> int:
        """Sequence ids free now or held only by cached prefixes (dropped on demand)."""
        return len(self._free_ids) + (len(self.cache) if self.cache is not None else 0)

    def fits(self, leader: Sequence) -> bool:
        """Could this lane ever run the request (an empty lane)?"""
        return len(leader.members) <= self.shape.n_seq_max and leader.kv_need <= self.shape.n_ctx

    def can_take(self, leader: Sequence) -> bool:
        """Could this lane start the request now (dropping cached prefixes if need be)?"""
        fits_kv = self.reserved + leader.kv_need <= self.shape.n_ctx
        return len(leader.members) <= self.free_slots and fits_kv

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._ctx = NativeContext(self.model, self.shape)
        self.cache = PrefixCache(self._ctx, self._free_ids, enabled=self.intake.prefix_cache)
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    # --- the lane's thread -----------------------------------------------------------------------

    def _run(self) -> None:
        intake = self.intake
        while True:
            with intake.cond:
                self._admit()
                while not intake.stopping and not self._active:
                    self.flush_outbox()  # requests cancelled while waiting: tell them now
                    intake.cond.wait(_RECHECK_S if intake.pending else None)
                    self._admit()
                while not intake.stopping and intake.wide not in (None, self):
                    intake.cond.wait()  # another lane has every core for one step
                if intake.stopping:
                    break
                wide = self._take_every_core()
            try:
                self._drop_cancelled()
                if self._active:
                    self._step(wide)
            except Exception as exc:  # an engine fault must not kill the thread
                log.exception("engine step failed")
                for seq in list(self._active):
                    self._finish(seq, failure=f"engine error: {exc}")
            finally:
                if wide:
                    self._give_cores_back()
            self.flush_outbox()
        for seq in list(self._active):
            self._finish(seq, failure="the engine is shutting down")
        self.flush_outbox()

    def _take_every_core(self) -> bool:
        """Run the next step wide if it decodes several tokens (a prompt chunk, or a token of
        each of several streams), no other lane needs a core, and wide has been the faster
        width for such steps lately (under cond)."""
        intake = self.intake
        if intake.wide_threads <= self.shape.n_threads_batch:
            return False
        prefilling = self._prefilling()
        decoding = sum(1 for seq in self._active if seq.decoding)
        if not prefilling and decoding < 2:  # a batch of one token runs on one thread anyway
            return False
        if not intake.others_idle(self) or not self._widths[prefilling].choose():
            return False
        assert self._ctx is not None
        intake.wide = self
        self._ctx.set_threads(self.shape.n_threads, intake.wide_threads)
        return True

    def _give_cores_back(self) -> None:
        if self._ctx is not None:
            self._ctx.set_threads(self.shape.n_threads, self.shape.n_threads_batch)
        with self.intake.cond:
            self.intake.wide = None
            self.intake.cond.notify_all()

    def _prefilling(self) -> bool:
        return any(
            not seq.decoding and seq.prefilled < len(seq.prompt) and not self._is_follower(seq)
            for seq in self._active
        )

    def _admit(self) -> None:
        """Take waiting requests (FIFO) while this lane has room and is the least busy one."""
        pending = self.intake.pending
        while pending:
            leader = pending[0]
            members = leader.members
            if all(m.handle.cancel_requested for m in members):
                pending.popleft()
                for m in members:
                    self.emit(m, Finished("cancelled", len(m.prompt), 0))
                    free_sampler(m.sampler)
                continue
            if not self.can_take(leader):
                return
            if self.intake.less_loaded_lane_fits(self, leader):
                self.intake.cond.notify_all()  # let that lane take it
                return
            pending.popleft()
            self._place(leader)
            self._active.extend(members)
            if pending:
                self.intake.cond.notify_all()  # the next one may suit another lane better

    def _place(self, leader: Sequence) -> None:
        """Gives the request its sequence ids and cells, starting its prefill after the
        longest prefix the cache holds (cached prefixes make room if they must)."""
        cache = self.cache
        assert cache is not None
        # Reused cells, and cached cells merely lying elsewhere in the shared KV buffer, change
        # the float rounding of attention, which can flip a greedy pick on a near tie. A
        # request that asks for reproducible output reuses nothing and, on an idle lane, finds
        # the cache emptied, so it runs exactly as the same request did before.
        reproducible = any(m.params.reproducible for m in leader.members)
        if reproducible and not self._active:
            cache.clear()
        entry, length = (None, 0) if reproducible else cache.best(leader.prompt)
        cache.free_ids_for(len(leader.members), spare=entry)
        for m in leader.members:
            m.seq_id = self._free_ids.pop()
        if entry is not None:
            reused = cache.reuse(entry, length, leader.seq_id)
            leader.prefilled = leader.position = reused
            if leader.share is not None:
                leader.share.reused = reused
        self.reserved += leader.kv_need
        cache.shrink_to(self.shape.n_ctx - self.reserved)

    def _drop_cancelled(self) -> None:
        for seq in list(self._active):
            if seq.handle.cancel_requested:
                self._finish(seq, reason="cancelled")

    def _step(self, wide: bool = False) -> None:
        assert self._ctx is not None
        entries: list[tuple[int, int, int, bool]] = []
        samplers: list[tuple[Sequence, int]] = []
        for seq in self._active:
            if seq.decoding:
                entries.append((seq.next_token, seq.position, seq.seq_id, True))
                seq.decoded.append(seq.next_token)
                samplers.append((seq, len(entries) - 1))
                seq.position += 1
        # Prompt tokens per step are capped so that sequences already decoding in this lane
        # wait at most one short chunk for their next token, and a request whose client left
        # stops within one chunk (bigger chunks prefill no measurably faster here).
        budget = min(self.shape.n_batch - len(entries), self.intake.prefill_chunk)
        prompt_tokens = 0
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
            prompt_tokens += take
            if last:
                samplers.append((seq, len(entries) - 1))
                for follower in seq.followers:
                    samplers.append((follower, len(entries) - 1))
        if not entries:
            return
        started = time.perf_counter()
        status = self._ctx.decode(entries)
        if status != 0:
            raise RuntimeError(f"llama_decode returned {status}")
        if len(entries) > 1:
            took = time.perf_counter() - started
            self._widths[prompt_tokens > 0].record(wide, took, len(entries))
        for seq, index in samplers:
            if seq.handle.cancel_requested:
                continue
            if seq.prefilled < len(seq.prompt):  # a follower: the leader's prompt is now in KV
                self._ctx.copy_sequence(self._leader_of(seq).seq_id, seq.seq_id, len(seq.prompt))
                seq.prefilled = seq.position = len(seq.prompt)
            token = sample(seq.sampler, self._ctx.ptr, index)
            if seq.params.logprobs is not None and not self.model.is_end_of_generation(token):
                seq.logprobs.append(
                    token_logprob(
                        self._ctx.ptr,
                        index,
                        token,
                        seq.params.logprobs,
                        self.model.n_vocab,
                        self.model.token_bytes,
                    )
                )
            self._accept(seq, token)

    def _accept(self, seq: Sequence, token: int) -> None:
        if self.model.is_end_of_generation(token):
            self._finish(seq, reason="stop")
            return
        seq.generated += 1
        seq.handle.produced[seq.index] = seq.generated
        text = seq.assembler.feed(self.model.piece(token))
        if text:
            self.emit(seq, TextDelta(text, seq.generated, _take(seq)))
        if seq.assembler.stopped:
            self._finish(seq, reason="stop")
        elif seq.generated >= seq.params.max_tokens:
            self._finish(seq, reason="length")
        else:
            seq.next_token = token

    def _finish(
        self,
        seq: Sequence,
        reason: Literal["stop", "length", "cancelled"] = "stop",
        failure: str | None = None,
    ) -> None:
        assert self._ctx is not None
        if reason != "cancelled" and failure is None:
            tail = seq.assembler.flush()
            if tail or seq.logprobs:
                self.emit(seq, TextDelta(tail, seq.generated, _take(seq)))
        self._active.remove(seq)
        if not self._cached(seq, kept=reason != "cancelled" and failure is None):
            self._ctx.forget(seq.seq_id)
            self._free_ids.append(seq.seq_id)
        self.reserved -= seq.params.max_tokens
        if seq.share is not None:
            seq.share.holders -= 1
            if seq.share.holders == 0:
                self.reserved -= seq.share.cells
        free_sampler(seq.sampler)
        if failure is not None:
            self.emit(seq, Failed(failure))
        else:
            cached = seq.share.reused if seq.share is not None else 0
            self.emit(seq, Finished(reason, len(seq.prompt), seq.generated, cached))

    def _cached(self, seq: Sequence, kept: bool) -> bool:
        """Leaves a finished request's cells in the prefix cache (its first choice's: the
        prompt and what it decoded); False when they are to be cleared."""
        if not kept or seq.index != 0 or self.cache is None:
            return False
        return self.cache.keep(seq.seq_id, seq.prompt[: seq.prefilled] + seq.decoded)

    def _is_follower(self, seq: Sequence) -> bool:
        return any(seq in other.followers for other in self._active)

    def _leader_of(self, seq: Sequence) -> Sequence:
        for other in self._active:
            if seq in other.followers:
                return other
        raise RuntimeError("a follower lost its leader")

    # --- delivery to the event loop(s) -----------------------------------------------------------

    def emit(self, seq: Sequence, event: EngineEvent) -> None:
        self._outbox.setdefault(seq.handle.loop, []).append((seq.handle, seq.index, event))

    def flush_outbox(self) -> None:
        """One wake-up per event loop per step, not one per token."""
        outbox, self._outbox = self._outbox, {}
        for loop, items in outbox.items():
            try:
                loop.call_soon_threadsafe(_deliver_all, items)
            except RuntimeError:  # that loop has closed; nobody is listening
                log.debug("dropped %d events for a closed loop", len(items))


def _take(seq: Sequence) -> tuple[TokenLogprob, ...]:
    """The logprobs of the tokens behind the text released now (and since the last delta)."""
    if not seq.logprobs:
        return ()
    taken, seq.logprobs = tuple(seq.logprobs), []
    return taken


def _deliver_all(items: list[_Delivery]) -> None:
    for handle, index, event in items:
        handle.deliver(index, event)
