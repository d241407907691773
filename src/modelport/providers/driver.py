"""The skeleton every HTTP vendor adapter shares, so an adapter holds only its vendor's quirks.

A request goes: the adapter's `call` (URL, headers, body) → the shared client → a 200 JSON
body turned into a `ChatCompletion` by `completion_from`, or server-sent events turned into
chunks by the adapter's `StreamReader`; any other status becomes an error through
`error_from`. The driver does the rest once: posting, reading events, keeping the connection
for reuse after the vendor's end event, checking that the stream really ended, wrapping it in
`ProviderStream` (usage at the end, estimates, budget), and turning a shape the adapter did not
expect into a 502 instead of a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion
from ..settings import ChannelConfig
from .base import ProviderDeps, UpstreamProvider
from .budget import OutputBudget
from .errors import UpstreamError, malformed
from .http_client import UpstreamBody
from .keyring import KeyRing
from .sse import EventParser, LineTooLong, ServerSentEvent
from .stream import Batch, ProviderStream, StreamItem

T = TypeVar("T")


class NoOptions(BaseModel, extra="forbid"):
    """A provider that takes no `options`: any key there is a mistake."""


@dataclass(frozen=True, slots=True)
class Call:
    """One upstream request: where it goes and what it carries."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    params: dict[str, str] | None = None


class StreamReader(Protocol):
    """One stream's vendor events → our items (stateful, one per stream)."""

    done: bool  # the vendor's end event came: stop reading

    def read(self, event: ServerSentEvent) -> list[StreamItem]:
        """The items an event makes (raise `UpstreamError` for an error event)."""
        ...

    def close(self) -> list[StreamItem]:
        """The items after the last event (usually the `StreamEnd`); raise if it ended early."""
        ...


def convert(fn: Callable[[Any], T], data: Any, vendor: str) -> T:
    """Run a vendor→OpenAI conversion; a shape we did not expect is a malformed response."""
    try:
        return fn(data)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            detail = f"{exc.error_count()} problems, first at {exc.errors()[0]['loc']}"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        raise malformed(vendor, f"unexpected shape ({detail})") from None


def base_url_of(channel: ChannelConfig, default: str) -> str:
    return (channel.base_url or default).rstrip("/")


async def drain(events: AsyncIterator[object], timeout: float = 0.05) -> None:
    """Read the little a finished stream still owes (the chunked body's end), so its connection
    goes back to the pool instead of being closed; give up quickly if the upstream dawdles."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            async for _ in events:
                pass


class HTTPAdapter(UpstreamProvider, ABC):
    """A vendor reached over HTTP: JSON in, JSON or server-sent events out."""

    vendor: ClassVar[str]
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._limits = deps.settings.upstream
        self._keys = KeyRing()

    @abstractmethod
    async def call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> Call:
        """The vendor request for `request` on `channel`."""

    @abstractmethod
    def error_from(self, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
        """The error for a status other than 200 (`raw` is the vendor's error body)."""

    @abstractmethod
    def completion_from(
        self, data: dict[str, Any], request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        """A 200 JSON answer as our completion."""

    @abstractmethod
    def reader(self, request: ChatCompletionRequest, channel: ChannelConfig) -> StreamReader:
        """A fresh reader for one stream's events."""

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        call = await self.call(request, channel, stream=False)
        data = await self._http.post_json(
            call.url,
            body=call.body,
            headers=call.headers,
            channel=channel,
            on_error=self.error_from,
            vendor=self.vendor,
            params=call.params,
        )
        if not isinstance(data, dict):
            raise malformed(self.vendor, "the body is not a JSON object")
        return convert(lambda d: self.completion_from(d, request, channel), data, self.vendor)

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream:
        budget = OutputBudget.of(request, self._limits)
        items = self.stream_items(request, channel)
        return ProviderStream(items, request=request, budget=budget, vendor=self.vendor)

    async def stream_items(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncGenerator[Batch, None]:
        """The answer's items, a batch per network read that brought any."""
        reader = self.reader(request, channel)
        parser = EventParser(self._limits.max_body_bytes)
        try:
            async with (
                self.open_stream(request, channel) as body,
                aclosing(body.blocks()) as blocks,
            ):
                async for block in blocks:
                    batch, failure = self._read(reader, parser.feed(block))
                    if batch:
                        yield batch  # what came before a failure in the same read goes out
                    if failure is not None:
                        raise failure
                    if reader.done:
                        await drain(blocks)  # keeps the connection alive for the next request
                        break
                else:
                    batch, failure = self._read(reader, parser.close())
                    if batch:
                        yield batch
                    if failure is not None:
                        raise failure
        except LineTooLong as exc:
            raise UpstreamError(
                502, f"{self.vendor} sent {exc}", code="upstream_response_too_large"
            ) from None
        batch = convert(lambda _: reader.close(), None, self.vendor)
        if batch:
            yield batch

    def _read(
        self, reader: StreamReader, events: list[ServerSentEvent]
    ) -> tuple[Batch, UpstreamError | None]:
        """The items of one read's events, and the failure that cut them short (if any)."""
        batch: Batch = []
        for event in events:
            if reader.done:
                break
            try:
                batch += convert(reader.read, event, self.vendor)
            except UpstreamError as exc:
                return batch, exc
        return batch, None

    @asynccontextmanager
    async def open_stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[UpstreamBody]:
        """The 200 answer whose body carries the events (a vendor may look at it first)."""
        call = await self.call(request, channel, stream=True)
        async with self._http.stream(
            call.url,
            body=call.body,
            headers=call.headers,
            channel=channel,
            on_error=self.error_from,
            vendor=self.vendor,
            params=call.params,
        ) as body:
            yield body
