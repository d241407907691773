"""An httpx transport that sends through aiohttp: the adapters keep httpx's API, the hot path
loses httpcore's cost (about half the CPU of a proxied request went to httpx + httpcore).

`UpstreamClient` also offers the transport itself (`direct`): `providers.http` posts and
streams through it without building httpx requests and responses at all (another ~15% of a
proxied request), raising the same httpx exceptions.

Only what the adapters use is supported: HTTP/1.1, no proxies, no redirects (httpx itself
follows them when asked). aiohttp's failures become the httpx exceptions the adapters already
map (`providers.http.transport_error`): connect errors, connect/read timeouts, dropped
connections.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import TypeVar

import aiohttp
import httpx

from .idle_timer import IdleTimeout, IdleTimer
from .tls import client_tls_context

T = TypeVar("T")


def _mapped(exc: BaseException) -> httpx.TransportError:
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@functools.lru_cache(maxsize=256)  # a few channels' worth; built per request otherwise
def _client_timeout(
    pool: float | None, connect: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def _timeout(timeout: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
    return _client_timeout(timeout.get("pool"), timeout.get("connect"), timeout.get("read"))


async def _watched(step: Awaitable[T], watch: IdleTimer | None) -> T:
    """`await step`, within `watch`'s limit when there is one (a ReadTimeout past it)."""
    if watch is None:
        return await step
    try:
        return await watch.wait(step)
    except IdleTimeout as exc:
        raise httpx.ReadTimeout(f"the upstream sent nothing: {exc}") from exc


async def iter_blocks(
    response: aiohttp.ClientResponse, watch: IdleTimer | None = None
) -> AsyncIterator[bytes]:
    """The body as it arrives, one item per network read; failures as httpx exceptions.

    `watch` is the read timeout of a response posted with one (see `post`): a stream arrives
    in as many reads as chunks, and aiohttp's sock_read re-arms a timer on each of them where
    `IdleTimer` keeps one for the whole response."""
    content = response.content
    try:
        while True:
            data = await _watched(content.readany(), watch)
            if not data:  # the end of the body
                return
            yield data
    except _ERRORS as exc:
        raise _mapped(exc) from exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                yield data
        except _ERRORS as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        # Fully read: the connection goes back to the pool; otherwise it is closed.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:  # created inside the running loop, on first use
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                keepalive_timeout=self._limits.keepalive_expiry or 5.0,
                ssl=client_tls_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        try:
            response = await self._client().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                timeout=_timeout(timeout),
            )
        except _ERRORS as exc:
            raise _mapped(exc) from exc
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_Body(response),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b""},
        )

    async def post(
        self,
        url: str,
        content: bytes,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
        *,
        watch: IdleTimer | None = None,
    ) -> aiohttp.ClientResponse:
        """POST straight through aiohttp (decompressing the body, as httpx would); the caller
        reads the response and releases it. With `watch`, that timer is the read timeout,
        here for the head and then for the body (`read`, `iter_blocks`), instead of aiohttp's."""
        read = None if watch is not None else timeout.read
        try:
            posting = self._client().post(
                url,
                data=content,
                headers=headers,
                allow_redirects=False,
                auto_decompress=True,
                timeout=_client_timeout(timeout.pool, timeout.connect, read),
            )
            return await _watched(posting, watch)
        except _ERRORS as exc:
            raise _mapped(exc) from exc

    @staticmethod
    async def read(response: aiohttp.ClientResponse, watch: IdleTimer | None = None) -> bytes:
        """The whole body, released after (`watch`: as for `post`)."""
        try:
            return await _watched(response.read(), watch)
        except _ERRORS as exc:
            raise _mapped(exc) from exc
        finally:
            response.release()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class UpstreamClient(httpx.AsyncClient):
    """An httpx client on `AiohttpTransport` that also exposes it, for the hot path."""

    def __init__(self, transport: AiohttpTransport) -> None:
        super().__init__(transport=transport)
        self.direct = transport


def upstream_client(limits: httpx.Limits | None = None) -> UpstreamClient:
    """The HTTP client the vendor adapters share."""
    limits = limits or httpx.Limits(max_connections=512, max_keepalive_connections=64)
    return UpstreamClient(AiohttpTransport(limits))
