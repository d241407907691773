"""Issue 17, item 3: owners take turns in the ingestion queue and in the file pools."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from modelport.knowledge.fair_queue import FairQueue
from modelport.knowledge.owner_pool import OwnerPool


async def test_owners_take_turns() -> None:
    queue: FairQueue[str] = FairQueue()
    for n in range(5):
        queue.put("a", f"a{n}")
    queue.put("b", "b0")
    queue.put("c", "c0")
    queue.put("b", "b1")
    order = []
    for _ in range(8):
        _owner, job = await queue.get()
        order.append(job)
        queue.task_done()
    assert order == ["a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4"]
    await asyncio.wait_for(queue.join(), 1)


async def test_a_newcomer_goes_before_the_owner_just_served() -> None:
    queue: FairQueue[str] = FairQueue()
    for n in range(3):
        queue.put("a", f"a{n}")
    assert (await queue.get())[1] == "a0"  # under way when b's file arrives
    queue.put("b", "b0")
    assert [(await queue.get())[1] for _ in range(3)] == ["b0", "a1", "a2"]


async def test_removed_jobs_are_dropped_and_count_as_done() -> None:
    queue: FairQueue[str] = FairQueue()
    for job in ("a0", "a1", "b0"):
        queue.put(job[0], job)
    assert queue.remove(lambda job: job in ("a1", "b0")) == 2 and len(queue) == 1
    assert (await queue.get())[1] == "a0"
    queue.task_done()
    await asyncio.wait_for(queue.join(), 1)


async def test_one_owner_cannot_fill_the_pool() -> None:
    pool = OwnerPool("test", threads=4, per_owner=2)
    release = threading.Event()
    started: list[int] = []

    def slow(n: int) -> int:
        started.append(n)
        release.wait(10)
        return n

    hog = [asyncio.create_task(pool.run("a", slow, n)) for n in range(8)]
    await asyncio.sleep(0.2)
    assert len(started) == 2  # the owner's share; six wait on its semaphore, not on threads
    begun = time.monotonic()
    assert await pool.run("b", lambda: "b's download") == "b's download"
    assert time.monotonic() - begun < 1
    release.set()
    assert await asyncio.gather(*hog) == list(range(8))
    pool.shutdown()


async def test_a_slot_is_held_until_the_thread_ends() -> None:
    pool = OwnerPool("test", threads=3, per_owner=1)
    release = threading.Event()
    first = asyncio.create_task(pool.run("a", release.wait, 10))
    await asyncio.sleep(0.1)
    first.cancel()  # the client hung up; its thread still works
    second = asyncio.create_task(pool.run("a", lambda: "again"))
    await asyncio.sleep(0.2)
    assert not second.done()
    release.set()
    assert await asyncio.wait_for(second, 2) == "again"
    pool.shutdown()


def test_the_share_must_be_below_the_pool() -> None:
    with pytest.raises(ValueError):
        OwnerPool("test", threads=2, per_owner=2)


def test_the_settings_keep_an_owners_share_below_the_pool() -> None:
    from pydantic import ValidationError

    from modelport.settings import KnowledgeSettings

    assert KnowledgeSettings().file_threads_per_owner < KnowledgeSettings().file_threads
    with pytest.raises(ValidationError, match="below file_threads"):
        KnowledgeSettings(file_threads=2, file_threads_per_owner=2)
