"""Keeping this replica's catalogue in step with the channels table.

A change made here is applied at once and announced on Redis (when configured), so other
replicas reload within a round trip; every replica also compares the database's change stamp
with its own every `poll_seconds`, which bounds the delay when Redis is absent or a message
was lost (pub/sub delivers at most once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as redis

from ..routing.catalogue import Catalogue
from ..settings import ChannelConfig
from .records import StoredChannel
from .store import ChannelStore

log = logging.getLogger("modelport.channels")
REDIS_CHANNEL = "modelport:channels:changed"


def by_model(channels: list[StoredChannel]) -> dict[str, list[ChannelConfig]]:
    """Each public model name and the enabled channels that serve it."""
    served: dict[str, list[ChannelConfig]] = {}
    for channel in channels:
        if not channel.enabled:
            continue
        for model in channel.models:
            served.setdefault(model, []).append(channel.config(model))
    return served


class ChannelSync:
    def __init__(
        self,
        store: ChannelStore,
        catalogue: Catalogue,
        *,
        poll_seconds: float = 1.0,
        redis_url: str | None = None,
    ) -> None:
        self.store = store
        self._catalogue = catalogue
        self._poll = poll_seconds
        self._redis: Any = redis.from_url(redis_url) if redis_url else None
        self._version = -1
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def version(self) -> int:
        return self._version

    async def reload(self) -> None:
        """Read the channels and put them into the catalogue (serialised: the last to read
        is the last to apply)."""
        async with self._lock:
            version, channels = await self.store.snapshot()
            self._catalogue.set_runtime_channels(by_model(channels))
            self._version = version

    async def changed(self) -> None:
        """This replica changed the channels: apply now and tell the others."""
        await self.reload()
        if self._redis is not None:
            try:
                await self._redis.publish(REDIS_CHANNEL, str(self._version))
            except Exception as exc:  # the stamp poll still reaches them
                log.warning("could not announce a channel change on Redis: %s", exc)

    async def start(self) -> None:
        await self.store.ensure_stamp()
        await self.reload()
        self._tasks.append(asyncio.create_task(self._watch_stamp(), name="channels-stamp"))
        if self._redis is not None:
            self._tasks.append(asyncio.create_task(self._listen(), name="channels-redis"))

    async def _watch_stamp(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                if await self.store.stamp() != self._version:
                    await self.reload()
            except Exception as exc:  # a database hiccup: keep serving what we have
                log.warning("could not check the channels' change stamp: %s", exc)

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(REDIS_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    if message.get("data") != str(self._version).encode():  # not our own
                        await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: the stamp poll covers; try again
                log.warning("channel change feed from Redis lost: %s", exc)
                await asyncio.sleep(self._poll)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()
