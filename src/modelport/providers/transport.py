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
from collections.abc import AsyncIterator, Mapping

import aiohttp
import httpx

from .idle_timer import IdleTimeout, IdleTimer
from .tls import client_tls_context


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


async def iter_blocks(
    response: aiohttp.ClientResponse, read_timeout: float | None = None
) -> AsyncIterator[bytes]:
    """The body as it arrives, one item per network read; failures as httpx exceptions.

    `read_timeout` is the longest silence allowed, for a response posted with `stream=True`
    (aiohttp's own sock_read then is off: it re-arms a timer on every read, dozens per
    stream, where `IdleTimer` keeps one)."""
    content = response.content
    timer = IdleTimer(read_timeout) if read_timeout else None
    try:
        while True:
            data = await (content.readany() if timer is None else timer.wait(content.readany()))
            if not data:  # the end of the body
                return
            yield data
    except IdleTimeout as exc:
        raise httpx.ReadTimeout(f"the upstream sent nothing: {exc}") from exc
    except _ERRORS as exc:
        raise _mapped(exc) from exc
    finally:
        if timer is not None:
            timer.close()


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
        stream: bool = False,
    ) -> aiohttp.ClientResponse:
        """POST straight through aiohttp (decompressing the body, as httpx would); the caller
        reads the response and releases it. With `stream`, the body is for `iter_blocks`,
        which watches the read timeout itself; the wait for the head gets it here."""
        read = timeout.read
        client_timeout = _client_timeout(timeout.pool, timeout.connect, None if stream else read)
        try:
            posting = self._client().post(
                url,
                data=content,
                headers=headers,
                allow_redirects=False,
                auto_decompress=True,
                timeout=client_timeout,
            )
            if not stream or read is None:
                return await posting
            async with asyncio.timeout(read):
                return await posting
        except _ERRORS as exc:
            raise _mapped(exc) from exc

    @staticmethod
    async def read(response: aiohttp.ClientResponse, limit: float | None = None) -> bytes:
        """The whole body, released after; within `limit` seconds if given (a response
        posted with `stream=True` has no read timeout of aiohttp's own)."""
        try:
            async with asyncio.timeout(limit):
                return await response.read()
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
