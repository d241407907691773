"""uvicorn's HTTP/1.1 protocol with two bounds on a request's head (its request line and
headers), which uvicorn does not set on its own:

- size: past `max_head_bytes` the client gets 431 and the connection is closed, so one client
  cannot make the server buffer a header of any size (seen: 120 MB taken in whole);
- time: a head must arrive whole within `head_timeout` seconds of its first byte (or of the
  connection), else the connection is closed: slow-header clients (slowloris) cannot hold
  connections open for ever.

Plugged in through uvicorn's `http` option (a protocol class); everything else is uvicorn's.
The limits come from the settings (`server:`), read once per process.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..settings import ServerSettings, Settings


@functools.cache
def _limits() -> ServerSettings:
    return Settings().server


def _too_large(limit: int) -> bytes:
    body = orjson.dumps(
        {
            "error": {
                "message": f"The request's headers exceed the limit of {limit} bytes.",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_header_fields_too_large",
            }
        }
    )
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class BoundedHeadProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = _limits()
        self._max_head = limits.max_head_bytes
        self._head_timeout = limits.head_timeout
        self._head_bytes = 0
        self._in_head = True  # waiting for (the rest of) a request's head
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and self.parser is not None:
            self._head_bytes += len(data)
            if self._head_bytes > self._max_head:
                self._stop_head_timer()
                self.transport.write(_too_large(self._max_head))
                self.transport.close()

    def on_message_begin(self) -> None:
        # The parser saw a new request's first byte (the connection may have idled before
        # it, under uvicorn's keep-alive timeout): its head is timed and counted from here.
        super().on_message_begin()
        self._in_head = True
        self._start_head()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def _start_head(self) -> None:
        self._head_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()
