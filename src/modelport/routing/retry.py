"""Trying a request's channels in turn until one answers.

A failure moves on to the next channel only while nothing has reached the client and the
error says another channel may succeed (`UpstreamError.retryable`: the request never reached
its upstream, or the upstream answered 429, 408 or 5xx). A request that was sent and then
timed out or dropped is never sent again; anything else (a bad request, a refused tool) is
the answer. Each outcome feeds the channel's circuit breaker.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..protocol.errors import APIError
from ..providers.errors import UpstreamError
from ..providers.redact import redact_error
from ..settings import ModelConfig
from .router import ChannelRouter, Route

T = TypeVar("T")
log = logging.getLogger("modelport.routing")


def is_channel_fault(exc: APIError) -> bool:
    """Whether an error speaks against the channel (rather than against the request).

    Only upstream failures do. A plain `APIError` is the platform's own answer: a bad
    request, or the local engine's backpressure (503 `engine_overloaded`), which must not
    open the breaker of a channel that is merely busy.
    """
    if not isinstance(exc, UpstreamError):
        return False
    return exc.retryable or exc.status >= 500 or exc.status == 429


class Attempts:
    """Runs `call` on each route in turn; remembers the last route tried (for the ledger).

    `group` is the caller's user group: channels limited to other groups are not tried.
    """

    def __init__(self, router: ChannelRouter, model: ModelConfig, group: str | None = None) -> None:
        self._router = router
        self._model = model
        self._group = group
        self.last: Route | None = None

    async def run(self, call: Callable[[Route], Awaitable[T]]) -> tuple[Route, T]:
        error: APIError | None = None
        for route in self._router.plan(self._model, self._group):
            breaker = self._router.health.breaker(route.id)
            if not breaker.acquire():  # opened meanwhile, or another request holds the probe
                continue
            self.last = route
            try:
                result = await call(route)
            except APIError as exc:
                if isinstance(exc, UpstreamError):  # before it reaches a log or the client
                    redact_error(exc, route.channel)
                    if await self._switched_off(route, exc):
                        breaker.failure()
                        error = exc
                        continue  # the upstream refused to run it: the next channel may
                if not is_channel_fault(exc):
                    breaker.release()
                    raise
                breaker.failure()
                error = exc
                if not (isinstance(exc, UpstreamError) and exc.retryable):
                    raise
                log.warning("channel %s failed (%s %s); trying the next", route.id, exc.status, exc)
                continue
            except BaseException:
                breaker.release()
                raise
            breaker.success()
            return route, result
        if error is not None:
            raise error
        raise UpstreamError(
            503,
            "every channel for this model is busy being probed; retry shortly",
            code="no_healthy_channel",
            headers={"Retry-After": "1"},
        )

    async def _switched_off(self, route: Route, exc: UpstreamError) -> bool:
        """Whether the channel's answer (a refused key, an empty balance) switched it off."""
        refusals = self._router.refusals
        if refusals is None:
            return False
        reason = refusals.reason(route, exc)
        if reason is None:
            return False
        try:
            await refusals.switch_off(route, reason)
        except Exception:  # the request's answer must not depend on the bookkeeping
            log.exception("could not switch channel %s off", route.id)
        return True
