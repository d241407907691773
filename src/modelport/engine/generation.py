"""The async side of one request: events of all its choices, cancellable at any point."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .events import EngineEvent, Failed, Finished


class Generation:
    """Handle to one request's sequences running in the engine thread.

    The engine thread pushes `(choice_index, event)` pairs with `loop.call_soon_threadsafe`;
    `cancel()` flags the request so the engine drops its sequences at the next step, and
    `cancelled()` resolves once the engine has really let go, with exact token tallies.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, prompt_tokens: int, n: int) -> None:
        self.loop = loop
        self.prompt_tokens = prompt_tokens
        self.n = n
        self.cancel_requested = False
        self.produced = [0] * n  # tokens sampled so far per choice (engine thread writes)
        self.finals: list[Finished | None] = [None] * n
        self._open = n
        self._queue: asyncio.Queue[tuple[int, EngineEvent]] = asyncio.Queue()
        self._done = asyncio.Event()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def completion_tokens(self) -> int:
        return sum(self.produced)

    def usage(self) -> tuple[int, int, int | None]:
        """Prompt and completion tokens so far, and the prompt tokens the prefix cache held
        (None when it held none)."""
        cached = max((f.cached_tokens for f in self.finals if f is not None), default=0)
        return self.prompt_tokens, self.completion_tokens(), cached or None

    # called on the event loop, on behalf of the engine thread --------------------------------
    def deliver(self, index: int, event: EngineEvent) -> None:
        if isinstance(event, Finished | Failed):
            if isinstance(event, Finished):
                self.finals[index] = event
            self._open -= 1
            if self._open == 0:
                self._done.set()
        self._queue.put_nowait((index, event))

    # called by the request -------------------------------------------------------------------
    async def events(self) -> AsyncIterator[tuple[int, EngineEvent]]:
        open_choices = self.n
        while open_choices:
            index, event = await self._queue.get()
            if isinstance(event, Finished | Failed):
                open_choices -= 1
            yield index, event

    def cancel(self) -> None:
        self.cancel_requested = True

    async def cancelled(self, timeout: float = 5.0) -> bool:
        """Cancel and wait until the engine has stopped every choice; False on timeout."""
        self.cancel_requested = True
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except TimeoutError:
            return False
        return True
