"""A job queue that serves owners in turn, so one owner's backlog cannot starve another's.

With one FIFO queue, an owner who attaches 50 files makes everyone else's single file wait
for all 50. Here each owner has a FIFO of its own and the owners take turns: a newcomer's
job runs after at most one job of each owner already waiting (and the job under way).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        self._jobs: dict[str, deque[T]] = {}  # owners with queued jobs, in turn order
        # The owner served last, with its other jobs: it rejoins the turns at the next `get`,
        # behind every owner that arrived while its job ran.
        self._resting: tuple[str, deque[T]] | None = None
        self._ready = asyncio.Event()
        self._unfinished = 0
        self._finished = asyncio.Event()
        self._finished.set()

    def put(self, owner: str, job: T) -> None:
        if self._resting is not None and self._resting[0] == owner:
            self._resting[1].append(job)
        else:
            self._jobs.setdefault(owner, deque()).append(job)
        self._unfinished += 1
        self._finished.clear()
        self._ready.set()

    async def get(self) -> tuple[str, T]:
        """The next job of the owner whose turn it is; that owner goes to the back."""
        while True:
            if self._resting is not None:
                owner, jobs = self._resting
                self._resting = None
                if jobs:
                    self._jobs[owner] = jobs  # last in turn
            if self._jobs:
                break
            self._ready.clear()
            await self._ready.wait()
        owner = next(iter(self._jobs))
        jobs = self._jobs.pop(owner)
        job = jobs.popleft()
        self._resting = (owner, jobs)
        return owner, job

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0:
            self._unfinished = 0
            self._finished.set()

    def remove(self, matches: Callable[[T], bool]) -> int:
        """Drop queued jobs that `matches` (their files were deleted); returns how many."""
        dropped = 0
        if self._resting is not None:
            owner, jobs = self._resting
            kept = deque(job for job in jobs if not matches(job))
            dropped += len(jobs) - len(kept)
            self._resting = (owner, kept)
        for owner in list(self._jobs):
            kept = deque(job for job in self._jobs[owner] if not matches(job))
            dropped += len(self._jobs[owner]) - len(kept)
            if kept:
                self._jobs[owner] = kept
            else:
                del self._jobs[owner]
        for _ in range(dropped):
            self.task_done()
        return dropped

    def __len__(self) -> int:
        resting = len(self._resting[1]) if self._resting is not None else 0
        return resting + sum(len(jobs) for jobs in self._jobs.values())

    async def join(self) -> None:
        """Wait until every job put has been taken and marked done (or removed)."""
        await self._finished.wait()
