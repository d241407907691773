"""One upstream HTTP/1.1 response, as `providers.http1` hands it over: its head, then its
body one buffer per network read (whatever that read held), decoded when asked for.

The connection feeds it from the parser's callbacks (`on_head`, `on_complete`, then `on_read`
once per network read with the body bytes it held, which wakes the reader); the reader awaits
`head`, then `next_block` until b"" (or `read`), then `release`s it. Waits are bounded by an
`IdleTimer`: the read timeout is the longest wait for the next bytes, head included.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Protocol

import httpx

from .idle_timer import IdleTimeout, IdleTimer

RawHeaders = list[tuple[bytes, bytes]]

HIGH_WATER = 256 * 1024  # buffered body bytes past which the socket is not read


class Carrier(Protocol):
    """The connection a response arrives on."""

    reusable: bool

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def release(self, *, reusable: bool) -> None: ...


class Http1Response:
    """The caller reads it (`read`, or `next_block` until b"") and then calls `release`; a
    response released before its end closes the connection (the upstream sees us leave)."""

    def __init__(
        self, carrier: Carrier, decode: bool, watch: IdleTimer | None, owns_watch: bool
    ) -> None:
        self.status = 0
        self.raw_headers: RawHeaders = []
        self.received = False  # any byte of the response arrived
        self._carrier: Carrier | None = carrier
        self._decode = decode
        self._decoder: zlib._Decompress | None = None
        self._watch = watch
        self._owns_watch = owns_watch
        self._blocks: list[bytes] = []  # body bytes not yet taken by the reader
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._has_head = False
        self._complete = False
        self._until_eof = False  # no length and not chunked: the body ends with the connection
        self._error: Exception | None = None
        self._headers: httpx.Headers | None = None

    @property
    def headers(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(self.raw_headers)
        return self._headers

    @property
    def pending(self) -> int:
        """Body bytes received and not yet read."""
        return self._buffered

    async def head(self) -> None:
        while not self._has_head:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """The whole body."""
        parts = []
        while block := await self.next_block():
            parts.append(block)
        return b"".join(parts)

    async def next_block(self) -> bytes:
        """What arrived of the body since the last call, waiting for more; b"" at its end."""
        while not self._blocks:
            if self._error is not None:
                raise self._error
            if self._complete:
                return b""
            await self._wait()
        blocks, self._blocks = self._blocks, []
        if self._buffered > HIGH_WATER and self._carrier is not None:
            self._carrier.resume()
        self._buffered = 0
        return blocks[0] if len(blocks) == 1 else b"".join(blocks)

    def release(self) -> None:
        """Done with it: a complete response gives its connection back to the pool."""
        carrier, self._carrier = self._carrier, None
        if carrier is None:
            return
        if self._owns_watch and self._watch is not None:
            self._watch.close()
        carrier.release(reusable=self._complete and self._error is None)

    def abandon(self) -> None:
        """The request failed before the head: only our own timer is left to stop."""
        self._carrier = None
        if self._owns_watch and self._watch is not None:
            self._watch.close()

    async def _wait(self) -> None:
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        watch = self._watch
        try:
            if watch is None:
                await waiter
            else:
                await watch.wait(waiter)
        except IdleTimeout as exc:
            raise httpx.ReadTimeout(f"the upstream sent nothing: {exc}") from exc
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # Fed by the connection.
    def on_head(self, status: int, keep_alive: bool) -> None:
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self.raw_headers = []
            return
        self.status, self._has_head = status, True
        chunked = length = False
        for name, value in self.raw_headers:
            lowered = name.lower()
            if lowered == b"content-length":
                length = True
            elif lowered == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lowered == b"content-encoding" and self._decode:
                self._decoder = decoder_for(value)
        self._until_eof = not (chunked or length) and status not in (204, 304)
        if not keep_alive and self._carrier is not None:
            self._carrier.reusable = False

    def on_complete(self) -> None:
        if self._has_head:  # not the end of an interim answer
            self._complete = True

    def on_read(self, parts: list[bytes]) -> None:
        """A network read was parsed: hand its body bytes (`parts`, emptied) to the reader."""
        self.received = True
        if parts:
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            parts.clear()
            if self._decoder is not None:
                data = self._decompress(data)
            if data:
                self._blocks.append(data)
                self._buffered += len(data)
                if self._buffered > HIGH_WATER and self._carrier is not None:
                    self._carrier.pause()
        if self._complete and self._decoder is not None:
            tail, self._decoder = self._decoder.flush(), None
            if tail:
                self._blocks.append(tail)
        if self._has_head:
            self._wake()

    def on_error(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._wake()

    def on_lost(self, exc: Exception | None) -> None:
        if self._complete:
            return
        if self._has_head and self._until_eof and exc is None:
            self._complete = True  # the body was everything up to the close
            self.on_read([])
            return
        detail = f"{type(exc).__name__}: {exc}" if exc else "the server closed the connection"
        self.on_error(httpx.RemoteProtocolError(detail))

    def _decompress(self, data: bytes) -> bytes:
        assert self._decoder is not None
        try:
            return self._decoder.decompress(data)
        except zlib.error as exc:
            self.on_error(httpx.DecodingError(f"undecodable body: {exc}"))
            return b""


def decoder_for(encoding: bytes) -> zlib._Decompress | None:
    """A decoder for a Content-Encoding; the ones we never ask for are refused."""
    kind = encoding.strip().lower()
    if kind in (b"gzip", b"x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == b"deflate":
        return zlib.decompressobj()
    if kind in (b"", b"identity"):
        return None
    raise httpx.DecodingError(f"unsupported content-encoding {kind.decode('latin-1')!r}")
