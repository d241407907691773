"""Notice a client leaving while its answer is still being made, and stop making it.

uvicorn does not cancel a request's task when the client goes away, and its `send` does not
fail afterwards, so without a watcher a long prefill or a non-stream answer would run to the
end for nobody. The watcher reads `receive` (after the body, only `http.disconnect` comes) and
cancels the answering task; the answerer tells its own cancellation from a real one by `left`.
"""

from __future__ import annotations

import asyncio

from starlette.types import Receive


class ClientDeparture:
    """Watches `receive` for the client leaving, from now or (`after` seconds) from a little
    later: a watcher is a task, and its start, wait and cancellation were ~7% of the CPU of a
    short proxied stream; most such streams are over within `after`. A disconnect in the
    meantime is not lost: uvicorn keeps it, and the watcher's first `receive` returns it."""

    def __init__(self, receive: Receive, after: float = 0.0) -> None:
        self.left = False
        self._answering = asyncio.current_task()
        self._active = True
        self._receive = receive
        self._watcher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        loop = asyncio.get_running_loop()
        if after > 0:
            self._timer = loop.call_later(after, self._start)
        else:
            self._start()

    def _start(self) -> None:
        self._timer = None
        if self._active:
            self._watcher = asyncio.get_running_loop().create_task(self._watch(self._receive))

    async def _watch(self, receive: Receive) -> None:
        while self._active:
            message = await receive()
            if message["type"] == "http.disconnect":
                if self._active and self._answering is not None:
                    self.left = True
                    self._answering.cancel()
                return

    @property
    def watching(self) -> bool:
        return self._watcher is not None and not self._watcher.done()

    def absorb(self) -> bool:
        """In an `except CancelledError`: True (and the cancellation undone) if it was ours."""
        if not self.left or self._answering is None:
            return False
        self._answering.uncancel()
        return True

    def stop(self) -> None:
        """The answer is complete (or the response ended): stop watching."""
        self._active = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._watcher is not None:
            self._watcher.cancel()
