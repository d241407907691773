"""A bounded pool for blocking file work, of which one owner holds at most a few threads.

Reading blobs and parsing previews used to go to asyncio's default pool (six threads on two
cores), shared with everything else: eight parallel `parsed-content` calls of one tenant
filled it and another tenant's download waited two minutes. Here the work has threads of its
own, and a per-owner semaphore, smaller than the pool, keeps each tenant to its share: the
rest of the threads stay free for the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class _Slots:
    def __init__(self, per_owner: int) -> None:
        self.semaphore = asyncio.Semaphore(per_owner)
        self.users = 0  # calls holding or awaiting the semaphore


class OwnerPool:
    def __init__(self, name: str, threads: int, per_owner: int) -> None:
        if not 1 <= per_owner < threads:
            raise ValueError("per_owner must be at least 1 and below threads")
        self.per_owner = per_owner
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        # Made on first use and dropped when no call holds or awaits them: the map holds only
        # owners with work under way.
        self._owners: dict[str, _Slots] = {}

    async def run(self, owner: str, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` on one of the pool's threads, once the owner has a free slot.

        The slot is given back when the thread is done, not when the caller stops waiting:
        a client that hangs up and asks again cannot stack up threads that still work.
        """
        slots = self._owners.setdefault(owner, _Slots(self.per_owner))
        slots.users += 1
        try:
            await slots.semaphore.acquire()
        except BaseException:
            self._leave(owner, slots, release=False)
            raise
        loop = asyncio.get_running_loop()
        try:
            future = self._executor.submit(call, *args)
        except BaseException:
            self._leave(owner, slots, release=True)
            raise

        def done(_future: Future[T]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (shutdown)
                loop.call_soon_threadsafe(self._leave, owner, slots, True)

        future.add_done_callback(done)
        return await asyncio.wrap_future(future)

    def _leave(self, owner: str, slots: _Slots, release: bool) -> None:
        if release:
            slots.semaphore.release()
        slots.users -= 1
        if slots.users == 0 and self._owners.get(owner) is slots:
            del self._owners[owner]

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
