"""Stream timeouts: time to the first chunk, and the longest silence between two chunks.

`first_batch` runs inside the retry loop, so a slow start is a retryable 504 and the next
channel gets its turn (the operator's explicit choice: the slow upstream may still finish,
and bill, its copy). `WatchedStream` guards the rest: a silence longer than the idle
timeout ends the stream with an error event, and any failure counts against the channel.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..protocol.errors import APIError
from ..providers.errors import UpstreamError
from ..providers.idle_timer import IdleTimeout, IdleTimer
from ..providers.redact import redact_error
from ..providers.stream import Batch, ProviderStream, StreamEnd
from ..settings import ChannelConfig
from .health import CircuitBreaker
from .retry import is_channel_fault


async def first_batch(source: ProviderStream, timeout: float | None) -> Batch | None:
    """The stream's first batch (None if it is empty), within `timeout` seconds if set."""
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


async def close_quietly(source: ProviderStream) -> None:
    with contextlib.suppress(Exception):  # it already failed; cleanup must not hide why
        await source.aclose()


class WatchedStream:
    """A provider's stream after its first item: idle timeout and health reporting."""

    def __init__(
        self,
        source: ProviderStream,
        channel: ChannelConfig,
        idle_timeout: float | None,
        breaker: CircuitBreaker,
    ) -> None:
        self._source = source
        self._channel = channel
        self._idle = IdleTimer(idle_timeout) if idle_timeout is not None else None
        self._breaker = breaker

    def billed(self) -> StreamEnd:
        return self._source.billed()

    def __aiter__(self) -> WatchedStream:
        return self

    async def __anext__(self) -> Batch:
        try:
            if self._idle is None:
                return await anext(self._source)
            return await self._idle.wait(anext(self._source))
        except IdleTimeout:
            self._breaker.failure()
            assert self._idle is not None
            raise UpstreamError(
                504,
                f"the upstream went silent for more than {self._idle.seconds:g}s",
                code="idle_timeout",
            ) from None
        except APIError as exc:
            if isinstance(exc, UpstreamError):
                redact_error(exc, self._channel)
            if is_channel_fault(exc):
                self._breaker.failure()
            raise

    async def aclose(self) -> None:
        if self._idle is not None:
            self._idle.close()
        await close_quietly(self._source)
