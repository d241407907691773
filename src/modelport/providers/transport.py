"""The HTTP client the vendor adapters share: httpx's API on modelport's own HTTP/1.1 pool.

The adapters keep httpx's API (`post`, `stream`, its exceptions); requests go through
`providers.http1` instead of httpcore, which cost about half the CPU of a proxied request.
`UpstreamClient` also exposes the transport itself (`direct`): `providers.http` posts and
streams through it without building httpx requests and responses at all, the hot path of
every proxied call. Only what the adapters use is supported: HTTP/1.1, no proxies, no
redirects (httpx itself follows them when asked).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx

from .http1 import Http1Pool
from .http1_response import Http1Response
from .idle_timer import IdleTimer
from .tls import client_tls_context

# What the direct path decodes (the httpx path leaves decoding to httpx, which asks itself).
_ACCEPT_ENCODING = (b"accept-encoding", b"gzip, deflate")


async def iter_blocks(response: Http1Response) -> AsyncIterator[bytes]:
    """The body as it arrives, one item per network read; failures as httpx exceptions."""
    while block := await response.next_block():
        yield block


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: Http1Response) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return iter_blocks(self._response)

    async def aclose(self) -> None:
        # Fully read: the connection goes back to the pool; otherwise it is closed.
        self._response.release()


def _timeout(extension: Mapping[str, float | None]) -> httpx.Timeout:
    return httpx.Timeout(
        connect=extension.get("connect"),
        read=extension.get("read"),
        write=extension.get("write"),
        pool=extension.get("pool"),
    )


class Http1Transport(httpx.AsyncBaseTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        self.pool = Http1Pool(
            max_connections=limits.max_connections or 512,
            max_idle=limits.max_keepalive_connections or 64,
            tls=client_tls_context,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.pool.request(
            request.method,
            str(request.url),
            request.headers.raw,
            body,
            _timeout(request.extensions.get("timeout", {})),
            decode=False,  # httpx decodes what it asked for
        )
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
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
    ) -> Http1Response:
        """POST and wait for the response's head; the caller reads it and releases it. With
        `watch`, that timer is the read timeout (head and body), else `timeout.read`."""
        raw = [(name.encode("ascii"), value.encode()) for name, value in headers.items()]
        if "accept-encoding" not in headers:
            raw.append(_ACCEPT_ENCODING)
        return await self.pool.request("POST", url, raw, content, timeout, watch=watch)

    @staticmethod
    async def read(response: Http1Response) -> bytes:
        """The whole body, released after."""
        try:
            return await response.read()
        finally:
            response.release()

    async def aclose(self) -> None:
        await self.pool.aclose()


class UpstreamClient(httpx.AsyncClient):
    """An httpx client on `Http1Transport` that also exposes it, for the hot path."""

    def __init__(self, transport: Http1Transport) -> None:
        super().__init__(transport=transport)
        self.direct = transport


def upstream_client(limits: httpx.Limits | None = None) -> UpstreamClient:
    """The HTTP client the vendor adapters share."""
    limits = limits or httpx.Limits(max_connections=512, max_keepalive_connections=64)
    return UpstreamClient(Http1Transport(limits))
