"""iFlytek Spark over WebSocket: a signed URL per request, one JSON frame out, frames back.

Retries follow the shared rule: a failure is retryable only while nothing was sent (the
connection or its handshake could not be made) or when Spark's code says so (busy, rate
limits: see `codes.py`). Once the request frame went out, a dropped connection, a timeout or a
frame we cannot read is final: Spark may have run, and billed, the request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.frames import CloseCode

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion
from ...settings import ChannelConfig
from ..base import ProviderDeps, UpstreamProvider
from ..budget import OutputBudget
from ..chunks import collect_completion
from ..driver import base_url_of, convert
from ..errors import UpstreamError, malformed, unreachable
from ..stream import Batch, ProviderStream
from .auth import signed_url
from .codes import handshake_error, spark_error
from .convert import SparkChunks, SparkTarget, openai_to_spark
from .options import SparkOptions, api_key_of, endpoint, spark_options
from .wire import SparkFrame

VENDOR = "Spark"
DEFAULT_BASE_URL = "wss://spark-api.xf-yun.com"
MAX_FRAME_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SparkCall:
    """One exchange: the signed URL and the request frame."""

    url: str
    body: dict[str, Any]


def spark_call(request: ChatCompletionRequest, channel: ChannelConfig) -> SparkCall:
    """The call for `request`, or the error that stops it before connecting."""
    options = spark_options(channel)
    path, domain = endpoint(options, channel, request)
    api_key = api_key_of(options, channel)
    target = SparkTarget(options.app_id, domain, options.max_tokens_cap)
    body = openai_to_spark(request, target).body()
    base = base_url_of(channel, DEFAULT_BASE_URL)
    return SparkCall(signed_url(base, path, api_key, options.api_secret.get_secret_value()), body)


class SparkProvider(UpstreamProvider):
    vendor: ClassVar[str] = VENDOR
    Options: ClassVar[type[BaseModel]] = SparkOptions

    def __init__(self, deps: ProviderDeps) -> None:
        # Spark speaks WebSocket, so the shared HTTP client goes unused.
        self._limits = deps.settings.upstream

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        # The raw items, not a ProviderStream: nothing reaches the caller before the end, so
        # a busy code in a later frame stays as retryable as its code says.
        async with aclosing(self._items(request, channel)) as items:
            return await collect_completion(items, request, request.model)

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream:
        budget = OutputBudget.of(request, self._limits)
        items = self._items(request, channel)
        return ProviderStream(items, request=request, budget=budget, vendor=VENDOR)

    async def _items(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncGenerator[Batch, None]:
        """A batch per frame, then the usage Spark reported (if it did)."""
        call = spark_call(request, channel)
        chunks = SparkChunks(request)
        # aclosing: a stream closed early (the client left) closes the WebSocket at once.
        async with aclosing(exchange(call, channel)) as frames:
            async for frame in frames:
                yield [convert(chunks.read, frame, VENDOR)]
        end = chunks.end()
        if end is not None:
            yield [end]


async def exchange(call: SparkCall, channel: ChannelConfig) -> AsyncGenerator[SparkFrame, None]:
    """Connect, send the request frame, yield the answer's frames up to the last one."""
    sent = False
    try:
        async with connect(
            call.url,
            open_timeout=channel.connect_timeout,
            close_timeout=1,
            max_size=MAX_FRAME_BYTES,
        ) as ws:
            sent = True  # from here on the request may have reached Spark
            await ws.send(json.dumps(call.body))
            while True:
                async with asyncio.timeout(channel.read_timeout):
                    raw = await ws.recv()
                frame = _frame(raw)
                if frame.header.code != 0:
                    raise spark_error(frame.header.code, frame.header.message, frame.header.sid)
                yield frame
                if frame.is_last():
                    return
    except InvalidStatus as exc:  # the gateway answered the upgrade with an HTTP error
        raise handshake_error(exc.response.status_code, bytes(exc.response.body or b"")) from None
    except (WebSocketException, TimeoutError, OSError) as exc:  # handshake, URI, proxy, drops
        raise transport_error(exc, sent=sent) from None


def transport_error(exc: Exception, *, sent: bool) -> UpstreamError:
    """A connection failure: retryable only if the request frame was never sent."""
    if not sent:
        detail = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return unreachable(VENDOR, detail)
    if isinstance(exc, ConnectionClosed):
        if exc.sent is not None and exc.sent.code == CloseCode.MESSAGE_TOO_BIG:
            return UpstreamError(
                502,
                f"{VENDOR} sent a frame larger than the limit of {MAX_FRAME_BYTES} bytes",
                code="upstream_response_too_large",
            )
        return UpstreamError(
            502, f"{VENDOR} closed the connection before the last frame", code="upstream_truncated"
        )
    if isinstance(exc, TimeoutError):
        return UpstreamError(504, f"{VENDOR} timed out", code="upstream_timeout")
    return UpstreamError(
        502,
        f"{VENDOR} connection failed after the request was sent: {type(exc).__name__}",
        code="upstream_connection_error",
    )


def _frame(raw: str | bytes) -> SparkFrame:
    try:
        return SparkFrame.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise malformed(VENDOR, f"bad frame ({type(exc).__name__})") from None
