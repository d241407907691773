"""Stream timeouts: time to the first chunk, and the longest silence between two chunks.

`first_chunk` runs inside the retry loop, so a slow start is a retryable 504 and the next
channel gets its turn. `WatchedStream` guards the rest: a silence longer than the idle
timeout ends the stream with an error event, and any failure counts against the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

from ..protocol.errors import APIError
from ..providers.errors import UpstreamError
from .health import CircuitBreaker
from .retry import is_channel_fault

T = TypeVar("T")


async def first_chunk(source: AsyncIterator[T], timeout: float | None) -> T | None:
    """The stream's first item (None if it is empty), within `timeout` seconds if set."""
    if timeout is None:
        return await anext(source, None)
    try:
        async with asyncio.timeout(timeout):
            return await anext(source, None)
    except TimeoutError:
        raise UpstreamError(
            504,
            f"the upstream sent nothing within {timeout:g}s",
            code="first_token_timeout",
            retryable=True,
        ) from None


async def close_quietly(source: object) -> None:
    closer = getattr(source, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):  # it already failed; cleanup must not hide why
            await closer()


class WatchedStream(Generic[T]):
    """The source after its first chunk: idle timeout, health reporting, same `usage`.

    The idle timeout is one timer per stream that checks when the current wait began, not an
    `asyncio.timeout` per chunk: that would add and cancel a timer on every chunk, a cost
    paid twenty times on a short proxied answer.
    """

    def __init__(
        self, source: AsyncIterator[T], idle_timeout: float | None, breaker: CircuitBreaker
    ) -> None:
        self._source = source
        self._idle = idle_timeout
        self._breaker = breaker
        self._waiter: asyncio.Task[object] | None = None  # the task awaiting the next chunk
        self._waiting_since = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timed_out = False

    @property
    def usage(self) -> object:
        """What the source knows it produced (the local engine counts exactly)."""
        return getattr(self._source, "usage", None)

    def __aiter__(self) -> WatchedStream[T]:
        return self

    async def __anext__(self) -> T:
        idle = self._idle
        try:
            if idle is None:
                return await anext(self._source)
            loop = asyncio.get_running_loop()
            self._waiter = asyncio.current_task()
            self._waiting_since = loop.time()
            if self._timer is None:
                self._timer = loop.call_at(self._waiting_since + idle, self._check, idle)
            try:
                return await anext(self._source)
            except asyncio.CancelledError:
                if not self._timed_out:
                    raise
                assert self._waiter is not None
                self._waiter.uncancel()
                self._breaker.failure()
                raise UpstreamError(
                    504, f"the upstream went silent for more than {idle:g}s", code="idle_timeout"
                ) from None
            finally:
                self._waiter = None
        except APIError as exc:
            if is_channel_fault(exc) and not self._timed_out:
                self._breaker.failure()
            raise

    def _check(self, idle: float) -> None:
        """The timer: cancel a wait that has lasted `idle` seconds, else look again later."""
        self._timer = None
        waiter = self._waiter
        if waiter is None:  # between chunks: the next wait arms a new timer
            return
        loop = asyncio.get_running_loop()
        due = self._waiting_since + idle
        if loop.time() >= due:
            self._timed_out = True
            waiter.cancel()
        else:
            self._timer = loop.call_at(due, self._check, idle)

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await close_quietly(self._source)
