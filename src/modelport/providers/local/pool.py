"""Local models loaded on first use, unloaded after an idle `keep_alive`, within a memory
budget (as Ollama does).

A request holds a *lease* on its model's engine for as long as it generates: a model is only
ever unloaded while nobody holds or waits for it, so unloading never cuts a stream. Loading
runs in a thread (the event loop keeps serving), once however many requests want the model
at the same moment, and one model at a time. When a load would pass the budget, the least
recently used idle models are unloaded first; when the models in use leave no room, the load
waits up to `wait` seconds for one to come free, then fails with `PoolFull`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger("modelport.engine")

E = TypeVar("E")


class PoolFull(Exception):
    """No room for the model within the budget: the loaded models are all in use."""


@dataclass(frozen=True, slots=True)
class SlotState:
    """What `/v1/models` and `/health` say of a model's engine."""

    loaded: bool
    expires_at: float | None  # unix time of its unload, None: not loaded or kept for ever
    size: int  # bytes, estimated (file + KV cache); 0 until first costed
    users: int


@dataclass(eq=False)
class _Slot(Generic[E]):
    path: str
    cost: int
    engine: E | None = None
    loading: asyncio.Task[E] | None = None
    unloading: asyncio.Task[None] | None = None
    users: int = 0  # leases held
    waiting: int = 0  # requests waiting for it to load (it must not be evicted meanwhile)
    keep_alive: float = 300.0
    retired: bool = False  # unload as soon as it is idle, whatever `keep_alive` says
    last_used: float = field(default_factory=time.monotonic)
    expires_at: float | None = None
    timer: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        return (
            self.engine is not None
            and self.users == 0
            and self.waiting == 0
            and self.unloading is None
        )


class ModelPool(Generic[E]):
    def __init__(
        self,
        load: Callable[[str], E],
        unload: Callable[[E], None],
        cost: Callable[[str], int],
        budget: int,
        wait: float = 30.0,
    ) -> None:
        self._load_fn, self._unload_fn, self._cost_fn = load, unload, cost
        self.budget = budget
        self.wait = wait
        self._slots: dict[str, _Slot[E]] = {}
        self._load_lock = asyncio.Lock()
        self._changed = asyncio.Event()

    # -- leases ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lease(self, path: str, keep_alive: float) -> AsyncIterator[E]:
        """The model's engine, loaded if need be, kept loaded until the block ends."""
        slot = await self._slot(path)
        engine = await self._acquire(slot)
        try:
            yield engine
        finally:
            self._release(slot, keep_alive)

    async def _slot(self, path: str) -> _Slot[E]:
        slot = self._slots.get(path)
        if slot is None:
            cost = await asyncio.to_thread(self._cost_fn, path)
            slot = self._slots.setdefault(path, _Slot(path, cost))
        return slot

    async def _acquire(self, slot: _Slot[E]) -> E:
        slot.waiting += 1
        try:
            while True:
                if slot.unloading is not None:
                    await asyncio.shield(slot.unloading)
                    continue
                if slot.engine is not None:
                    slot.users += 1
                    slot.retired = False
                    self._cancel_timer(slot)
                    return slot.engine
                if slot.loading is None:
                    slot.loading = asyncio.create_task(self._load(slot))
                    slot.loading.add_done_callback(_retrieve)
                await asyncio.shield(slot.loading)
        finally:
            slot.waiting -= 1

    def _release(self, slot: _Slot[E], keep_alive: float) -> None:
        slot.users -= 1
        slot.last_used = time.monotonic()
        slot.keep_alive = keep_alive
        self._notify()
        self._when_idle(slot)

    def _when_idle(self, slot: _Slot[E]) -> None:
        """Start the idle model's keep_alive (0: unload now; below 0: keep it loaded)."""
        if not slot.idle:
            return
        if slot.retired or slot.keep_alive == 0:
            self._start_unload(slot)
        elif slot.keep_alive > 0:
            self._cancel_timer(slot)
            slot.expires_at = time.time() + slot.keep_alive
            loop = asyncio.get_running_loop()
            slot.timer = loop.call_later(slot.keep_alive, self._expire, slot)

    def _expire(self, slot: _Slot[E]) -> None:
        slot.timer = None
        if slot.idle:
            log.info("unloading %s: idle for its keep_alive (%gs)", slot.path, slot.keep_alive)
            self._start_unload(slot)

    # -- loading and unloading --------------------------------------------------------------

    async def _load(self, slot: _Slot[E]) -> E:
        try:
            async with self._load_lock:
                await self._make_room(slot)
                started = time.perf_counter()
                engine = await asyncio.to_thread(self._load_fn, slot.path)
                slot.engine = engine
                log.info(
                    "loaded %s (%.0f MB of a %.0f MB budget) in %.2fs",
                    slot.path,
                    slot.cost / 1e6,
                    self.budget / 1e6,
                    time.perf_counter() - started,
                )
                return engine
        finally:
            slot.loading = None
            self._notify()
            self._when_idle(slot)  # whoever wanted it gave up meanwhile

    async def _make_room(self, slot: _Slot[E]) -> None:
        """Unload idle models, least recently used first, until `slot` fits the budget (or is
        the only model loaded); wait for busy ones to come free up to `wait` seconds."""
        deadline = time.monotonic() + self.wait
        while True:
            others = [s for s in self._slots.values() if s is not slot and s.engine is not None]
            used = sum(s.cost for s in others)
            if not others or used + slot.cost <= self.budget:
                return
            idle = sorted((s for s in others if s.idle), key=lambda s: s.last_used)
            victims: list[_Slot[E]] = []
            for candidate in idle:
                if used + slot.cost <= self.budget:
                    break
                victims.append(candidate)
                used -= candidate.cost
            if victims:
                for victim in victims:
                    log.info("unloading %s to make room for %s", victim.path, slot.path)
                    self._start_unload(victim)
                await asyncio.gather(*(asyncio.shield(v.unloading) for v in victims if v.unloading))
                continue
            pending = [s.unloading for s in others if s.unloading is not None]
            if pending:
                await asyncio.gather(*(asyncio.shield(task) for task in pending))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolFull(slot.path)
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _start_unload(self, slot: _Slot[E]) -> None:
        if slot.unloading is None and slot.engine is not None:
            self._cancel_timer(slot)
            slot.unloading = asyncio.create_task(self._unload(slot))
            slot.unloading.add_done_callback(_retrieve)

    async def _unload(self, slot: _Slot[E]) -> None:
        engine = slot.engine
        try:
            if engine is not None:
                await asyncio.to_thread(self._unload_fn, engine)
        finally:
            slot.engine = None
            slot.expires_at = None
            slot.unloading = None
            self._notify()

    def _cancel_timer(self, slot: _Slot[E]) -> None:
        if slot.timer is not None:
            slot.timer.cancel()
            slot.timer = None
        slot.expires_at = None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- the rest -------------------------------------------------------------------------

    async def retire(self, path: str) -> None:
        """Unload the model now if idle, else as soon as its last lease ends."""
        slot = self._slots.get(path)
        if slot is None:
            return
        slot.retired = True
        if slot.idle:
            self._start_unload(slot)
        if slot.unloading is not None:
            await asyncio.shield(slot.unloading)

    def state(self, path: str) -> SlotState:
        slot = self._slots.get(path)
        if slot is None:
            return SlotState(False, None, 0, 0)
        loaded = slot.engine is not None and slot.unloading is None
        return SlotState(loaded, slot.expires_at if loaded else None, slot.cost, slot.users)

    def engines(self) -> list[tuple[str, E, SlotState]]:
        """The loaded engines: path, engine, state."""
        return [
            (path, slot.engine, self.state(path))
            for path, slot in self._slots.items()
            if slot.engine is not None
        ]

    async def aclose(self) -> None:
        for slot in self._slots.values():
            self._cancel_timer(slot)
            if slot.loading is not None:
                with contextlib.suppress(Exception):
                    await slot.loading
            if slot.unloading is not None:
                with contextlib.suppress(Exception):
                    await slot.unloading
            if slot.engine is not None:
                engine, slot.engine = slot.engine, None
                await asyncio.to_thread(self._unload_fn, engine)
        self._slots.clear()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Its exception reaches whoever awaits it; none left awaiting must not log it twice."""
    if not task.cancelled():
        task.exception()
