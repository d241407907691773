"""Fetch the pages behind search results: concurrently, within time, size and type limits,
following a bounded number of redirects, and only to addresses the `AddressPolicy` permits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpcore
import httpx

from ..settings import SearchFetchSettings
from .guard import AddressPolicy, FetchFailed, FetchRefused, GuardedBackend

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NETWORK_ERRORS = (
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.PoolTimeout,
    OSError,
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # where the page was found, after redirects
    content_type: str  # media type without parameters
    text: str
    truncated: bool  # the page was longer than max_bytes; `text` is its beginning


class PageFetcher:
    """Fetches pages for grounding; never raises for one page, it reports why instead."""

    def __init__(
        self, settings: SearchFetchSettings, *, backend: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._settings = settings
        self._types = frozenset(t.lower() for t in settings.content_types)
        self._backend = backend or GuardedBackend(AddressPolicy(settings.allow_networks))

    async def fetch_all(self, urls: Sequence[str]) -> list[FetchedPage | FetchFailed]:
        """One outcome per URL, in order: the page, or the `FetchFailed` that stopped it."""
        if not urls:
            return []
        limit = self._settings.concurrency
        async with httpcore.AsyncConnectionPool(
            network_backend=self._backend, max_connections=limit, retries=0
        ) as pool:
            gate = asyncio.Semaphore(limit)
            return list(await asyncio.gather(*(self._guarded(pool, gate, u) for u in urls)))

    async def _guarded(
        self, pool: httpcore.AsyncConnectionPool, gate: asyncio.Semaphore, url: str
    ) -> FetchedPage | FetchFailed:
        async with gate:
            try:
                async with asyncio.timeout(self._settings.timeout):
                    return await self._fetch(pool, url)
            except FetchFailed as exc:
                return exc
            except TimeoutError:
                return FetchFailed(f"{url}: no page within {self._settings.timeout:g}s")
            except httpcore.TimeoutException:
                return FetchFailed(f"{url}: timed out")
            except _NETWORK_ERRORS as exc:
                return FetchFailed(f"{url}: {type(exc).__name__}")

    async def _fetch(self, pool: httpcore.AsyncConnectionPool, url: str) -> FetchedPage:
        current = _checked_url(url)
        for _ in range(self._settings.max_redirects + 1):
            async with pool.stream(
                "GET", _wire_url(current), headers=self._headers(), extensions=self._timeouts()
            ) as response:
                if response.status in _REDIRECTS:
                    location = _header(response.headers, b"location")
                    if not location:
                        raise FetchFailed(f"{current}: redirect without a Location")
                    current = _checked_url(location, base=current)
                    continue
                if not 200 <= response.status < 300:
                    raise FetchFailed(f"{current}: HTTP {response.status}")
                media_type, charset = _content_type(_header(response.headers, b"content-type"))
                if media_type not in self._types:
                    raise FetchRefused(f"{current}: content type '{media_type or 'none'}'")
                body, truncated = await _read_at_most(response, self._settings.max_bytes)
            return FetchedPage(str(current), media_type, _decode(body, charset), truncated)
        raise FetchFailed(f"{url}: more than {self._settings.max_redirects} redirects")

    def _headers(self) -> list[tuple[bytes, bytes]]:
        accept = ", ".join(sorted(self._types)) + ";q=0.9"
        return [
            (b"User-Agent", self._settings.user_agent.encode()),
            (b"Accept", accept.encode()),
            (b"Accept-Encoding", b"identity"),
        ]

    def _timeouts(self) -> dict[str, dict[str, float]]:
        limit = self._settings.timeout
        return {"timeout": {"connect": limit, "read": limit, "write": limit, "pool": limit}}


def _checked_url(url: str, *, base: httpx.URL | None = None) -> httpx.URL:
    """`url` (a redirect's Location is resolved against `base`), if it may be fetched."""
    try:
        parsed = httpx.URL(url) if base is None else base.join(url)
    except (httpx.InvalidURL, ValueError) as exc:  # httpx lets some ValueErrors through
        raise FetchRefused(f"{url!r} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused(f"{url}: scheme '{parsed.scheme}' is not fetched")
    if not parsed.host:
        raise FetchRefused(f"{url}: no host")
    if parsed.userinfo:
        raise FetchRefused(f"{url}: URLs with credentials are not fetched")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise FetchRefused(f"{url}: port {parsed.port} is out of range")
    return parsed


def _wire_url(url: httpx.URL) -> httpcore.URL:
    """The checked URL as httpcore's parts (as httpx's transport does): httpcore does not
    parse it again, with a parser of its own that could see another host or port."""
    return httpcore.URL(
        scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
    )


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return ""


def _content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'")
    return media_type.strip().lower(), charset


async def _read_at_most(response: httpcore.Response, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the body; closing early drops the connection, not the pool."""
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_stream():
        parts.append(part)
        size += len(part)
        if size >= limit:
            return b"".join(parts)[:limit], True
    return b"".join(parts), False


def _decode(body: bytes, charset: str | None) -> str:
    if charset is None:
        found = _META_CHARSET.search(body[:4096])
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:  # an encoding name Python does not know
        return body.decode("utf-8", errors="replace")
