"""Following tasks to their end: news from the upstream (its notify webhook, or the poll of
`list-by-condition` that reconciles every unfinished task), a deadline for tasks that stop
moving, the refund of a task that ends without an image, and the client's notify hook.

A finished task is final: later news about it (say, SUCCESS after it timed out and was
refunded) is ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import orjson

from ..accounting.usage import UsageEntry, usage_row
from ..providers.errors import UpstreamError
from ..storage.mj_tables import MidjourneyTask
from ..storage.tables import utcnow
from .config import MidjourneySettings
from .hooks import HookSender
from .protocol import FINISHED, Task
from .tasks import TaskStore
from .upstream import MidjourneyUpstream
from .view import Signer, public_task

log = logging.getLogger("modelport.midjourney")
REFUNDED_STATUSES = frozenset({"FAILURE", "CANCEL"})
_KNOWN_STATUSES = frozenset({"NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", *FINISHED})
_BATCH = 200


def ledger_model(action: str) -> str:
    return f"mj-{action.lower()}"


def refund_row(task: MidjourneyTask) -> dict[str, Any]:
    """The ledger row giving back what the task cost."""
    return usage_row(
        UsageEntry(
            request_id=f"mj-refund-{task.id}",
            key_id=task.key_id,
            owner=task.owner,
            model=ledger_model(task.action),
            provider=f"midjourney:{task.channel}",
            total_tokens=0,
            cost_micros=-task.price_micros,
            error_code="mj_task_refund",
            detail=f"refund of {task.action} task {task.id}",
            channel=f"midjourney:{task.channel}",  # as the task's charge (Metered's provider)
        )
    )


def news_values(task: MidjourneyTask, news: Task) -> dict[str, Any]:
    """The columns the news changes (empty: nothing new)."""
    fresh: dict[str, Any] = {}
    if news.status in _KNOWN_STATUSES:
        fresh["status"] = news.status
        fresh["finished"] = news.status in FINISHED
    if news.progress is not None:
        fresh["progress"] = news.progress[:16]
    if news.imageUrl:
        fresh["upstream_image_url"] = news.imageUrl
    if news.failReason:
        fresh["fail_reason"] = news.failReason[:2000]
    if news.promptEn:
        fresh["prompt_en"] = news.promptEn
    if news.startTime:
        fresh["start_time"] = news.startTime
    if news.finishTime:
        fresh["finish_time"] = news.finishTime
    fresh["buttons"] = orjson.dumps([b.model_dump() for b in news.buttons]).decode()
    fresh["properties"] = orjson.dumps(news.properties).decode()
    changed = {k: v for k, v in fresh.items() if getattr(task, k) != v}
    if changed:
        changed["changed_at"] = utcnow()
        if changed.get("finished") and not task.finish_time and "finish_time" not in changed:
            changed["finish_time"] = int(time.time() * 1000)
    return changed


class TaskTracker:
    def __init__(
        self,
        settings: MidjourneySettings,
        store: TaskStore,
        upstream: MidjourneyUpstream,
        hooks: HookSender,
        signer: Signer,
    ) -> None:
        self._settings = settings
        self._store = store
        self._upstream = upstream
        self._hooks = hooks
        self._signer = signer
        self._loop: asyncio.Task[None] | None = None

    async def apply(self, channel: str, news: Task) -> bool:
        """Takes an upstream's news of one of its tasks; False when no task of ours is it."""
        task = await self._store.by_upstream(channel, news.id)
        if task is None:
            return False
        await self._update(task, news)
        return True

    async def _update(self, task: MidjourneyTask, news: Task) -> None:
        for _ in range(5):  # another replica may be applying the same news
            if task.finished:
                return
            values = news_values(task, news)
            if not values:
                return
            refund = refund_row(task) if values.get("status") in REFUNDED_STATUSES else None
            if await self._store.change(task, values, refund):
                await self._notify(task.id, task.owner)
                return
            reread = await self._store.get(task.owner, task.id)
            if reread is None:
                return
            task = reread

    async def _notify(self, task_id: str, owner: str) -> None:
        task = await self._store.get(owner, task_id)
        if task is None or not task.notify_hook:
            return
        base = self._settings.public_url or ""
        payload = public_task(task, base, self._signer).model_dump()
        self._hooks.send(task.notify_hook, payload)

    async def poll(self) -> None:
        """Asks each channel about its unfinished tasks, then fails those that stalled."""
        for channel in self._settings.channels:
            tasks = await self._store.unfinished(channel.name, _BATCH)
            if not tasks:
                continue
            try:
                answers = await self._upstream.tasks(channel, [t.upstream_id for t in tasks])
            except UpstreamError as exc:
                log.warning("midjourney channel %s: poll failed: %s", channel.name, exc.message)
                continue
            by_id = {t.upstream_id: t for t in tasks}
            for news in answers:
                task = by_id.get(news.id)
                if task is not None:
                    await self._update(task, news)
        await self.fail_stalled()

    async def fail_stalled(self) -> None:
        """Ends (and refunds) every unfinished task that has not moved for `stuck_seconds`."""
        seconds = self._settings.stuck_seconds
        before = utcnow() - timedelta(seconds=seconds)
        for task in await self._store.stalled(before, _BATCH):
            news = Task(
                id=task.upstream_id,
                status="FAILURE",
                failReason=f"no progress from the upstream for {seconds:g} seconds",
                buttons=orjson.loads(task.buttons or "[]"),
                properties=orjson.loads(task.properties or "{}"),
            )
            await self._update(task, news)

    def start(self) -> None:
        if self._settings.channels and self._loop is None:
            self._loop = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.poll_seconds)
            try:
                await self.poll()
            except Exception:
                log.exception("midjourney poll failed")

    async def aclose(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
