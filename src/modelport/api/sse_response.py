"""A streaming response for SSE that notices a client leaving and always closes its source.

Starlette's StreamingResponse only listens for disconnects on older ASGI versions, and uvicorn's
`send` does not raise after a disconnect, so a stream could keep generating for nobody. Here
the body is sent while a second task watches `receive`; whichever ends first cancels the
other, and the source is closed (generation stopped, usage settled) under a shield.
"""

from __future__ import annotations

from typing import Protocol

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class ClosableByteStream(Protocol):
    def __aiter__(self) -> ClosableByteStream: ...
    async def __anext__(self) -> bytes: ...
    async def aclose(self) -> None: ...


class SSEResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, source: ClosableByteStream, headers: dict[str, str] | None = None) -> None:
        self.source = source
        self.status_code = 200
        self.background = None
        base = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        self.init_headers({**base, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def watch_disconnect() -> None:
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            group.cancel_scope.cancel()
                            return

                group.start_soon(watch_disconnect)
                await self._send_body(send)
                group.cancel_scope.cancel()
        except OSError:
            pass  # the client went away mid-send
        finally:
            with anyio.CancelScope(shield=True):
                await self.source.aclose()

    async def _send_body(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for frame in self.source:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
