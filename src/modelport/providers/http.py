"""HTTP plumbing shared by the vendor adapters: keys, timeouts, posting, streaming, errors.

Every failure leaves here as an `UpstreamError`; adapters only supply a function that turns a
vendor's error body into one (`ErrorMapper`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import orjson

from ..settings import ChannelConfig
from .errors import UpstreamError, client_status_for_upstream, status_is_retryable
from .idle_timer import IdleTimer
from .sse import ServerSentEvent, iter_lines, iter_sse
from .transport import UpstreamClient, iter_blocks

T = TypeVar("T")

# (upstream status, raw body, response headers) -> the error to raise
ErrorMapper = Callable[[int, bytes, Mapping[str, str]], UpstreamError]


class KeyRing:
    """Round-robin over a channel's keys, so several keys share one channel's load."""

    def __init__(self) -> None:
        self._turns: dict[tuple[str, ...], int] = {}

    def next(self, channel: ChannelConfig, *, required: bool = True) -> str | None:
        keys = tuple(channel.keys())
        if not keys:
            if required:
                raise UpstreamError(
                    500,
                    f"channel for provider '{channel.provider}' has no api_key configured",
                    type="server_error",
                    code="channel_misconfigured",
                    retryable=True,  # another channel may be configured properly
                )
            return None
        turn = self._turns.get(keys, 0)
        self._turns[keys] = turn + 1
        return keys[turn % len(keys)]


def timeout_for(channel: ChannelConfig) -> httpx.Timeout:
    return httpx.Timeout(
        connect=channel.connect_timeout,
        read=channel.read_timeout,
        write=channel.read_timeout,
        pool=channel.connect_timeout,
    )


def base_url_of(channel: ChannelConfig, default: str) -> str:
    return (channel.base_url or default).rstrip("/")


def upstream_error(
    status: int,
    message: str,
    *,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
    retryable: bool | None = None,
) -> UpstreamError:
    """An error for an upstream HTTP status: our status, retryability and Retry-After."""
    out_headers: dict[str, str] = {}
    retry_after = (headers or {}).get("retry-after")
    if retry_after:
        out_headers["Retry-After"] = retry_after
    if type is None:
        type = (
            "invalid_request_error" if 400 <= status < 500 and status != 429 else "upstream_error"
        )
    return UpstreamError(
        client_status_for_upstream(status),
        message,
        type=type,
        code=code,
        param=param,
        retryable=status_is_retryable(status) if retryable is None else retryable,
        headers=out_headers,
    )


def transport_error(exc: httpx.HTTPError, vendor: str) -> UpstreamError:
    """Connect errors, timeouts and dropped connections: all worth another channel."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(
            504,
            f"{vendor} timed out: {type(exc).__name__}",
            code="upstream_timeout",
            retryable=True,
        )
    return UpstreamError(
        502,
        f"{vendor} connection error: {type(exc).__name__}: {exc}",
        code="upstream_connection_error",
        retryable=True,
    )


def malformed(vendor: str, detail: str) -> UpstreamError:
    return UpstreamError(
        502,
        f"{vendor} sent a malformed response: {detail}",
        code="upstream_malformed_response",
        retryable=True,
    )


def encode(body: dict[str, Any]) -> bytes:
    """A request body as JSON (orjson: several times faster than `json`, same output)."""
    return orjson.dumps(body)


def _json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {"content-type": "application/json", **headers}


def parse_json(text: str | bytes, vendor: str) -> Any:
    try:
        return orjson.loads(text)
    except ValueError as exc:
        raise malformed(vendor, f"invalid JSON ({exc})") from None


def json_error_body(body: bytes) -> Any:
    """The decoded error body, or None when the upstream did not even send JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def convert(fn: Callable[[Any], T], data: Any, vendor: str) -> T:
    """Run a vendor→OpenAI conversion; a shape we did not expect is a malformed response."""
    try:
        return fn(data)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise malformed(vendor, f"unexpected shape ({type(exc).__name__}: {exc})") from None


async def post_json(
    http: httpx.AsyncClient,
    url: str,
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    channel: ChannelConfig,
    on_error: ErrorMapper,
    vendor: str,
) -> Any:
    content, all_headers, timeout = encode(body), _json_headers(headers), timeout_for(channel)
    try:
        if isinstance(http, UpstreamClient):  # the server's client, without httpx's objects
            raw = await http.direct.post(url, content, all_headers, timeout)
            status, received = raw.status, await http.direct.read(raw)
            if status != 200:
                raise on_error(status, received, raw.headers)
            return parse_json(received, vendor)
        response = await http.post(url, content=content, headers=all_headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise transport_error(exc, vendor) from None
    if response.status_code != 200:
        raise on_error(response.status_code, response.content, response.headers)
    return parse_json(response.content, vendor)


@asynccontextmanager
async def open_sse(
    http: httpx.AsyncClient,
    url: str,
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    channel: ChannelConfig,
    on_error: ErrorMapper,
    vendor: str,
) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
    """POST and yield the response's server-sent events; errors surface as `UpstreamError`."""
    async with open_byte_stream(
        http, url, body=body, headers=headers, channel=channel, on_error=on_error, vendor=vendor
    ) as blocks:
        yield iter_sse(iter_lines(blocks))


@asynccontextmanager
async def open_byte_stream(
    http: httpx.AsyncClient,
    url: str,
    *,
    body: dict[str, Any],
    headers: dict[str, str],
    channel: ChannelConfig,
    on_error: ErrorMapper,
    vendor: str,
) -> AsyncIterator[AsyncIterator[bytes]]:
    """POST and yield the response body as it arrives, one item per network read (the relay
    path splits events itself, `open_sse` reads them as lines); errors surface as
    `UpstreamError`."""
    content, all_headers, timeout = encode(body), _json_headers(headers), timeout_for(channel)
    try:
        if isinstance(http, UpstreamClient):
            # One timer is the read timeout of the whole response: head, error body, chunks.
            watch = IdleTimer(timeout.read) if timeout.read else None
            try:
                response = await http.direct.post(url, content, all_headers, timeout, watch=watch)
                try:
                    if response.status != 200:
                        error_body = await response.read()
                        raise on_error(response.status, error_body, response.headers)
                    yield iter_blocks(response)
                finally:
                    response.release()
            finally:
                if watch is not None:
                    watch.close()
            return
        async with http.stream(
            "POST", url, content=content, headers=all_headers, timeout=timeout
        ) as reply:
            if reply.status_code != 200:
                raise on_error(reply.status_code, await reply.aread(), reply.headers)
            yield reply.aiter_bytes()
    except httpx.HTTPError as exc:
        raise transport_error(exc, vendor) from None


async def drain(events: AsyncIterator[object], timeout: float = 0.05) -> None:
    """Read the little a finished stream still owes (the chunked body's end), so its connection
    goes back to the pool instead of being closed; give up quickly if the upstream dawdles."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            async for _ in events:
                pass


async def guard_stream(chunks: AsyncIterator[T], vendor: str) -> AsyncIterator[T]:
    """Make a stream's failures honest: once something was yielded, nothing is retryable.

    Closing this stream (a client went away) closes the upstream request at once.
    """
    yielded = False
    try:
        async for chunk in chunks:
            yielded = True
            yield chunk
    except UpstreamError as exc:
        if yielded:
            exc.retryable = False
        raise
    except httpx.HTTPError as exc:
        error = transport_error(exc, vendor)
        error.retryable = not yielded
        raise error from None
    finally:
        close = getattr(chunks, "aclose", None)  # async generators hold the upstream response
        if close is not None:
            await close()
