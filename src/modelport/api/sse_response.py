"""A streaming response for SSE that notices a client leaving and always closes its source.

Starlette's StreamingResponse only listens for disconnects on older ASGI versions, and uvicorn's
`send` does not raise after a disconnect, so a stream could keep generating for nobody. Here
the body is sent while a `ClientDeparture` watches `receive` (the one that already watched
while the stream was being opened, when given); a disconnect cancels the sending task (and
only that cancellation is absorbed), the end of the body stops the watcher, and the source is
always closed (generation stopped, usage settled). Plain asyncio rather than an
anyio task group: a cancellation is delivered once, so the close in `finally` runs to its
end without a shield, and the group's cancel scopes cost a measurable share of a proxied
request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..chat.sse import DONE
from .departure import ClientDeparture

# A stream's watcher for its client leaving starts this late: most proxied streams are over
# by then, and a client that left sooner is noticed then (generation goes on that long).
WATCH_AFTER = 0.05


class ClosableByteStream(Protocol):
    def __aiter__(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class SSEResponse(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        source: ClosableByteStream,
        headers: dict[str, str] | None = None,
        departure: ClientDeparture | None = None,
    ) -> None:
        self.source = source
        self.departure = departure
        self.status_code = 200
        self.background = None
        base = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        self.init_headers({**base, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        departure = self.departure or ClientDeparture(receive, after=WATCH_AFTER)
        try:
            await self._send_body(send)
        except asyncio.CancelledError:
            if not departure.absorb():
                raise
        except OSError:
            pass  # the client went away mid-send
        finally:
            departure.stop()
            await self.source.aclose()

    async def _send_body(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for frame in self.source:
            if frame.endswith(DONE):  # the stream's last frame: end the body with it (one
                # write on the socket less than an empty final message)
                await send({"type": "http.response.body", "body": frame, "more_body": False})
                return
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
