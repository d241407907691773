"""A lean HTTP/1.1 client for upstream calls: keep-alive connections pooled per origin,
responses parsed by httptools (llhttp, the parser uvicorn serves with), the body handed on
one buffer per network read.

Why not aiohttp's client: on a proxied request it was the largest single cost modelport
paid, about 40% of a bare pass-through's CPU for a non-stream answer (per-chunk callbacks,
timers, a request and a response object of many fields). Here a request is one write, and a
network read is one parser call and one wake-up of the reader, whatever it holds.

What it does: HTTP/1.1 over TCP or TLS; a request body sent with its length in the same
write; responses with Content-Length, chunked or read-to-close bodies; gzip and deflate
decoding when asked; a connection limit (waiting for a place is the pool timeout), idle
connections kept for a few seconds; a reused connection that the server had already closed is
replaced once, transparently. What it leaves out: proxies, redirects (httpx follows them
itself), HTTP/2, HEAD (a body-less answer the parser cannot be told about). Failures are
raised as httpx's exceptions, which the adapters already map (`providers.http`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import cast
from urllib.parse import urlsplit

import httptools
import httpx

from .http1_response import Http1Response
from .idle_timer import IdleTimer

Origin = tuple[str, str, int]  # scheme, host, port

# Framing is ours: the caller's values would contradict what we write.
_OWN_HEADERS = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection"})


@lru_cache(maxsize=256)
def split_url(url: str) -> tuple[Origin, bytes, bytes]:
    """(origin, request target, Host header value) of an absolute http(s) URL. A URL that is
    not one fails as a connection would: the channel is misconfigured, another may work."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise httpx.ConnectError(f"invalid upstream URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        raise httpx.ConnectError(f"not an absolute http(s) URL: {url!r}")
    default = 443 if scheme == "https" else 80
    port = port or default
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    name = host.encode("ascii") if host.isascii() else host.encode("idna")
    shown = b"[%s]" % name if ":" in host else name
    authority = shown if port == default else b"%s:%d" % (shown, port)
    return (scheme, host, port), target.encode("ascii", "strict"), authority


def request_head(
    method: str, target: bytes, authority: bytes, headers: Iterable[tuple[bytes, bytes]], size: int
) -> bytes:
    """The request line and headers; the body follows with its length declared."""
    lines = [b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (method.encode("ascii"), target, authority)]
    if size or method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: %d\r\n" % size)
    for name, value in headers:
        if name.lower() not in _OWN_HEADERS:
            if b"\r" in value or b"\n" in value:
                raise httpx.LocalProtocolError(f"header {name!r} has a line break in its value")
            lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"\r\n")
    return b"".join(lines)


class _Connection(asyncio.Protocol):
    """One socket; it serves one response at a time (the parser calls back into it)."""

    def __init__(self, pool: Http1Pool, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.response: Http1Response | None = None
        self.reusable = True
        self.lost = False
        self.idle_since = 0.0
        self._pool = pool
        self._paused = False
        # Body bytes of the current network read, appended by the parser itself: httptools
        # binds `on_body` once, so a list's own `append` spares a Python call per chunk.
        self.body: list[bytes] = []
        self.on_body = self.body.append
        self._parser = httptools.HttpResponseParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # nothing was asked: a confused server; do not reuse it
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.close()
            response.on_error(httpx.RemoteProtocolError(f"malformed response: {exc}"))
            return
        except httpx.DecodingError as exc:  # raised by on_head: an encoding we never asked for
            self.close()
            response.on_error(exc)
            return
        response.on_read(self.body)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.reusable = False
        if self.response is not None:
            self.response.on_lost(exc)
        else:  # closed while idle (the server's keep-alive ran out): make room
            self._pool.forget(self)

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if self.response is not None:
            self.response.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.response is not None:
            parser = self._parser
            self.response.on_head(parser.get_status_code(), parser.should_keep_alive())

    def on_message_complete(self) -> None:
        if self.response is not None:
            self.response.on_complete()

    # What the response asks of its carrier.
    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def release(self, *, reusable: bool) -> None:
        self.response = None
        self._pool.give_back(self, reusable=reusable)

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class _Stale(Exception):
    """A reused connection was closed by the server before it answered anything."""


class Http1Pool:
    """Connections by origin; at most `max_connections` requests at once, up to
    `max_idle` idle connections kept for `idle_seconds` each."""

    def __init__(
        self,
        *,
        max_connections: int = 512,
        max_idle: int = 64,
        idle_seconds: float = 4.0,  # under the 5 s most servers keep an idle client
        tls: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self._free = max_connections
        self._queue: list[asyncio.Future[None]] = []
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._tls = tls or ssl.create_default_context
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
        timeout: httpx.Timeout,
        *,
        watch: IdleTimer | None = None,
        decode: bool = True,
    ) -> Http1Response:
        """Send the request and wait for the response's head. The read timeout is `watch`
        when given (the caller's timer, which it closes), else one of the response's own
        for `timeout.read`. The caller reads the body and releases the response."""
        if method == "HEAD":
            raise httpx.UnsupportedProtocol("HEAD requests are not supported upstream")
        origin, target, authority = split_url(url)
        payload = request_head(method, target, authority, headers, len(body)) + body
        await self._acquire(timeout.pool)
        try:
            try:
                return await self._exchange(origin, payload, timeout, watch, decode, reuse=True)
            except _Stale:
                return await self._exchange(origin, payload, timeout, watch, decode, reuse=False)
        except BaseException:
            self._release_place()
            raise

    async def _exchange(
        self,
        origin: Origin,
        payload: bytes,
        timeout: httpx.Timeout,
        watch: IdleTimer | None,
        decode: bool,
        *,
        reuse: bool,
    ) -> Http1Response:
        connection = self._idle_connection(origin) if reuse else None
        reused = connection is not None
        if connection is None:
            connection = await self._connect(origin, timeout.connect)
        owns_watch = watch is None and timeout.read is not None
        if owns_watch:
            assert timeout.read is not None
            watch = IdleTimer(timeout.read)
        response = Http1Response(connection, decode, watch, owns_watch)
        connection.response = response
        assert connection.transport is not None
        connection.transport.write(payload)
        try:
            await response.head()
        except BaseException as exc:
            connection.response = None
            connection.close()
            response.abandon()
            if isinstance(exc, httpx.RemoteProtocolError) and reused and not response.received:
                raise _Stale from None
            raise
        return response

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        expired = time.monotonic() - self._idle_seconds
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if not connection.lost and connection.idle_since > expired:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, seconds: float | None) -> _Connection:
        scheme, host, port = origin
        context = self._tls() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, origin),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                )
        except TimeoutError:
            message = f"connecting to {host}:{port} took over {seconds}s"
            raise httpx.ConnectTimeout(message) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}") from None
        return connection

    def give_back(self, connection: _Connection, *, reusable: bool) -> None:
        """A response is done with its connection: keep it for the next request, or close."""
        if (
            reusable
            and connection.reusable
            and not connection.lost
            and not self._closed
            and self._idle_count < self._max_idle
        ):
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, []).append(connection)
            self._idle_count += 1
        else:
            connection.close()
        self._release_place()

    def forget(self, connection: _Connection) -> None:
        idle = self._idle.get(connection.origin)
        if idle and connection in idle:
            idle.remove(connection)
            self._idle_count -= 1

    async def _acquire(self, seconds: float | None) -> None:
        if self._free > 0 and not self._queue:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                await waiter  # the place is handed over by `_release_place`
        except TimeoutError:
            self._abandon(waiter)
            raise httpx.PoolTimeout("no free upstream connection in time") from None
        except BaseException:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: asyncio.Future[None]) -> None:
        if waiter in self._queue:
            self._queue.remove(waiter)
        elif waiter.done() and not waiter.cancelled():
            self._release_place()  # handed over just as we gave up: pass it on

    def _release_place(self) -> None:
        while self._queue:
            waiter = self._queue.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    @property
    def idle_connections(self) -> int:
        return self._idle_count

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
        self._idle_count = 0
