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
    def __init__(self, receive: Receive) -> None:
        self.left = False
        self._answering = asyncio.current_task()
        self._active = True
        self._watcher = asyncio.get_running_loop().create_task(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while self._active:
            message = await receive()
            if message["type"] == "http.disconnect":
                if self._active and self._answering is not None:
                    self.left = True
                    self._answering.cancel()
                return

    def absorb(self) -> bool:
        """In an `except CancelledError`: True (and the cancellation undone) if it was ours."""
        if not self.left or self._answering is None:
            return False
        self._answering.uncancel()
        return True

    def stop(self) -> None:
        """The answer is complete (or the response ended): stop watching."""
        self._active = False
        self._watcher.cancel()
