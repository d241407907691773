"""The one HTTP client of every vendor adapter: aiohttp's pooled session, with limits, proxies
and TLS per channel, and every failure as an `UpstreamError`.

- A POST is written once. aiohttp resends a request on a dropped keep-alive connection only
  for idempotent methods; here a failure is retryable (another channel or key) only when the
  connection could not be made, so nothing reached the upstream.
- Limits (`UpstreamSettings`): the status line and each header and their number (aiohttp's
  parser refuses more), a non-stream body and a stream's bytes, both after decompression
  (aiohttp inflates in bounded steps, so a small gzip bomb never becomes a large buffer).
- Proxies: `channel.proxy` (http, https, socks4, socks5, socks5h); otherwise HTTPS_PROXY,
  HTTP_PROXY and NO_PROXY from the environment (`trust_env`). SOCKS needs its own connector,
  so each SOCKS proxy gets its own pool; everything else shares one.
- TLS: `channel.ca_file` or `verify: false`; otherwise SSL_CERT_FILE, else certifi's bundle.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import aiohttp_socks
import certifi
import orjson

from ..settings import ChannelConfig, UpstreamSettings
from .errors import UpstreamError, malformed, unreachable

# (upstream status, raw body, response headers) -> the error to raise
ErrorMapper = Callable[[int, bytes, Mapping[str, str]], UpstreamError]
_SOCKS = ("socks4://", "socks5://", "socks5h://")
# Connect failures: the request was never written, so another channel may be tried.
_UNREACHED = (
    aiohttp.ClientConnectorError,  # refused, DNS, TLS handshake, the proxy itself
    aiohttp.ConnectionTimeoutError,
    aiohttp.InvalidURL,
    aiohttp_socks.ProxyError,
    aiohttp_socks.ProxyConnectionError,
    aiohttp_socks.ProxyTimeoutError,
)


# Everything a call may fail with below HTTP (aiohttp's, the SOCKS connector's, timeouts).
_FAILURES = (aiohttp.ClientError, TimeoutError, *_UNREACHED)


def default_tls_context(trust_env: bool = True) -> ssl.SSLContext:
    """Verifying context over SSL_CERT_FILE when set (and trusted), else certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE") if trust_env else None
    return _tls_context(cafile or certifi.where())


@functools.lru_cache(maxsize=32)
def _tls_context(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


@dataclass(frozen=True, slots=True)
class _Way:
    """How one channel's requests travel: which pool, through which HTTP proxy, which TLS."""

    session: aiohttp.ClientSession
    proxy: str | None
    tls: ssl.SSLContext | bool


def _refusal(vendor: str, limit: int, what: str) -> UpstreamError:
    return UpstreamError(
        502,
        f"{vendor} sent {what} larger than the limit of {limit} bytes",
        code="upstream_response_too_large",
    )


def transport_error(exc: BaseException, vendor: str) -> UpstreamError:
    """An aiohttp failure as the error a client gets (and whether routing may retry)."""
    if isinstance(exc, _UNREACHED):
        return unreachable(vendor, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):
        return UpstreamError(
            504, f"{vendor} timed out: {type(exc).__name__}", code="upstream_timeout"
        )
    if isinstance(exc, aiohttp.ClientResponseError):  # the head did not parse or was too large
        return UpstreamError(
            502,
            f"{vendor} sent a response head we refuse: {exc.message}",
            code="upstream_bad_response",
        )
    if isinstance(exc, aiohttp.ClientPayloadError):  # cut off, or not decodable as declared
        return UpstreamError(
            502,
            f"{vendor} cut its answer short (or sent one that could not be decoded)",
            code="upstream_connection_error",
        )
    return UpstreamError(
        502,
        f"{vendor} connection failed after the request was sent: {type(exc).__name__}",
        code="upstream_connection_error",
    )


class UpstreamHTTP:
    """The shared client; built once per process (its pools open on first use)."""

    def __init__(self, settings: UpstreamSettings | None = None) -> None:
        self.settings = settings or UpstreamSettings()
        self._sessions: dict[str, aiohttp.ClientSession] = {}  # "" → direct or env proxy
        self._ways: dict[tuple[str | None, str | None, bool, str, str], _Way] = {}

    def _session(self, socks: str = "") -> aiohttp.ClientSession:
        session = self._sessions.get(socks)
        if session is None:
            s = self.settings
            options: dict[str, Any] = {
                "limit": s.max_connections,
                "limit_per_host": 0,
                "keepalive_timeout": s.idle_seconds,
            }
            connector: aiohttp.BaseConnector
            if socks:  # socks5h: the proxy resolves names (python-socks spells it rdns)
                remote_dns = socks.startswith("socks5h://")
                url = "socks5://" + socks.removeprefix("socks5h://") if remote_dns else socks
                connector = aiohttp_socks.ProxyConnector.from_url(url, rdns=remote_dns, **options)
            else:
                connector = aiohttp.TCPConnector(**options)
            session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,  # the environment is read once per origin (`_env_proxy`)
                auto_decompress=True,
                max_line_size=s.max_header_line,
                max_field_size=s.max_header_line,
                max_headers=s.max_headers,
                timeout=aiohttp.ClientTimeout(total=None),
                cookie_jar=aiohttp.DummyCookieJar(),  # an upstream's cookies are not ours to keep
            )
            self._sessions[socks] = session
        return session

    def _way(self, channel: ChannelConfig, url: str) -> _Way:
        origin = urlsplit(url)
        key = (channel.proxy, channel.ca_file, channel.verify, origin.scheme, origin.netloc)
        way = self._ways.get(key)
        if way is None:
            tls: ssl.SSLContext | bool
            if not channel.verify:
                tls = False
            elif channel.ca_file:
                tls = _tls_context(channel.ca_file)
            else:
                tls = default_tls_context(self.settings.trust_env)
            proxy = channel.proxy or (self._env_proxy(origin) if self.settings.trust_env else None)
            if proxy is not None and proxy.startswith(_SOCKS):
                way = _Way(self._session(proxy), None, tls)
            else:
                way = _Way(self._session(), proxy, tls)
            self._ways[key] = way
        return way

    @staticmethod
    def _env_proxy(origin: SplitResult) -> str | None:
        """HTTPS_PROXY / HTTP_PROXY for the origin's scheme unless NO_PROXY names its host, as
        the standard library reads them (once per origin: aiohttp's own `trust_env` reads
        them, and ~/.netrc in a thread, on every request)."""
        proxy = getproxies().get(origin.scheme)
        if not proxy or proxy_bypass(origin.hostname or ""):
            return None
        return proxy

    @asynccontextmanager
    async def _post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        channel: ChannelConfig,
        params: Mapping[str, str] | None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        way = self._way(channel, url)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=channel.connect_timeout, sock_read=channel.read_timeout
        )
        async with way.session.post(
            url,
            data=body,
            headers=headers,
            params=params,
            proxy=way.proxy,
            ssl=way.tls,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            yield response

    async def _read(
        self, response: aiohttp.ClientResponse, vendor: str, limit: int | None = None
    ) -> bytes:
        """The whole body, refused past `limit` or `max_body_bytes` (counted as it arrives)."""
        limit = limit or self.settings.max_body_bytes
        declared = response.content_length
        if (
            declared is not None
            and declared > limit
            and not response.headers.get("content-encoding")
        ):
            raise _refusal(vendor, limit, "a body")
        parts: list[bytes] = []
        size = 0
        async for block in response.content.iter_any():
            size += len(block)
            if size > limit:
                raise _refusal(vendor, limit, "a body")
            parts.append(block)
        return b"".join(parts)

    async def post(
        self,
        url: str,
        *,
        body: bytes,
        headers: Mapping[str, str],
        channel: ChannelConfig,
        vendor: str,
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """POST and read the whole answer: (status, body, headers), any status."""
        try:
            async with self._post(url, body, headers, channel, params) as response:
                return response.status, await self._read(response, vendor), response.headers
        except _FAILURES as exc:
            raise transport_error(exc, vendor) from None

    async def post_json(
        self,
        url: str,
        *,
        body: dict[str, Any],
        headers: Mapping[str, str],
        channel: ChannelConfig,
        on_error: ErrorMapper,
        vendor: str,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """POST a JSON body and decode the JSON answer; a status other than 200 is `on_error`'s."""
        status, raw, received = await self.post(
            url,
            body=orjson.dumps(body),
            headers=_json(headers),
            channel=channel,
            vendor=vendor,
            params=params,
        )
        if status != 200:
            raise on_error(status, raw, received)
        return parse_json(raw, vendor)

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        channel: ChannelConfig,
        vendor: str,
        limit: int | None = None,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """GET and read the whole answer (at most `limit` bytes, else `max_body_bytes`);
        redirects are not followed (a vendor's redirect is its answer)."""
        way = self._way(channel, url)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=channel.connect_timeout, sock_read=channel.read_timeout
        )
        try:
            async with way.session.get(
                url,
                headers=headers,
                proxy=way.proxy,
                ssl=way.tls,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                body = await self._read(response, vendor, limit)
                return response.status, body, response.headers
        except _FAILURES as exc:
            raise transport_error(exc, vendor) from None

    @asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        body: dict[str, Any],
        headers: Mapping[str, str],
        channel: ChannelConfig,
        on_error: ErrorMapper,
        vendor: str,
        params: Mapping[str, str] | None = None,
    ) -> AsyncIterator[UpstreamBody]:
        """POST a JSON body and hand over the answer's body as it arrives (a status other than
        200 is `on_error`'s, read whole)."""
        try:
            async with self._post(
                url, orjson.dumps(body), _json(headers), channel, params
            ) as response:
                if response.status != 200:
                    raise on_error(
                        response.status, await self._read(response, vendor), response.headers
                    )
                yield UpstreamBody(response, self.settings.max_stream_bytes, vendor)
        except _FAILURES as exc:
            raise transport_error(exc, vendor) from None

    async def aclose(self) -> None:
        sessions, self._sessions = self._sessions, {}
        self._ways.clear()
        for session in sessions.values():
            await session.close()


class UpstreamBody:
    """A streamed answer's body: its bytes as they arrive, refused past `limit`."""

    def __init__(self, response: aiohttp.ClientResponse, limit: int, vendor: str) -> None:
        self.headers: Mapping[str, str] = response.headers
        self._response = response
        self._limit = limit
        self._vendor = vendor

    async def blocks(self) -> AsyncGenerator[bytes, None]:
        size = 0
        try:
            async for block in self._response.content.iter_any():
                size += len(block)
                if size > self._limit:
                    raise _refusal(self._vendor, self._limit, "a stream")
                yield block
        except _FAILURES as exc:
            raise transport_error(exc, self._vendor) from None

    async def read(self) -> bytes:
        """The rest of the body, whole (an error body sent as 200 by a vendor)."""
        return b"".join([block async for block in self.blocks()])


def _json(headers: Mapping[str, str]) -> dict[str, str]:
    return {"content-type": "application/json", **headers}


def parse_json(raw: str | bytes, vendor: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if isinstance(raw, bytes):  # undecodable bytes: replaced, then parsed again
        try:
            return orjson.loads(raw.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            pass
    raise malformed(vendor, "invalid JSON")
