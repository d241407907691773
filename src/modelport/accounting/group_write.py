"""Group commit: small writes that arrive while one transaction runs share the next one.

A quota hold is a write per request on the answer's path, and on SQLite most of its CPU is the
transaction around it (the hop to the writer thread, BEGIN, COMMIT), not its statements. Under
load, requests' holds and settlements queue while a transaction is under way and go together
in the next one; alone, a write waits for nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from ..storage.db import Database

T = TypeVar("T")
_Work = tuple[Callable[[Connection], Any], "asyncio.Future[Any]"]


class GroupWriter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[_Work] = []
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Runs `work` in a transaction shared with the other writes queued with it; if one
        of them fails, each of them raises (they were rolled back together)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._queue.append((work, done))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self._db.write_batch(_all_of(batch))
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for (_, done), result in zip(batch, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        finally:
            self._drainer = None

    async def aclose(self) -> None:
        """Waits for the writes already queued."""
        if self._drainer is not None:
            await asyncio.shield(self._drainer)


def _all_of(batch: list[_Work]) -> Callable[[Connection], list[Any]]:
    def run(conn: Connection) -> list[Any]:
        return [work(conn) for work, _ in batch]

    return run
