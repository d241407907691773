"""The chat service: resolve the model, pick a channel, call the provider, account for it."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..accounting.gate import Gate
from ..accounting.keys import KeyRecord
from ..accounting.usage import UsageEntry, UsageLedger
from ..observability.metrics import Metrics, channel_label
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion, ChatCompletionChunk, Usage, completion_id
from ..protocol.errors import APIError
from ..providers.registry import ProviderRegistry
from ..routing.catalogue import Catalogue
from ..routing.retry import Attempts
from ..routing.router import ChannelRouter, Route
from ..routing.timeouts import WatchedStream, close_quietly, first_chunk
from ..settings import ChannelConfig, ModelConfig
from .augment import Augmentation, Augmenter
from .metering import MeteredStream, prompt_chars
from .stream import ChatStream

log = logging.getLogger("modelport.chat")

# An opened stream on some channel: the rest of it, and its first chunk (None if empty).
Started = tuple[AsyncIterator[ChatCompletionChunk], ChatCompletionChunk | None]


@dataclass(frozen=True)
class Caller:
    """Who is asking: the authenticated key and the request's id."""

    key_id: str
    owner: str
    request_id: str
    key: KeyRecord | None = None  # its limits, for the gate; None skips the gate


@dataclass(frozen=True)
class _Booking:
    """What the ledger row of one request will say, whatever happens to the request."""

    caller: Caller
    model: ModelConfig
    started: float
    stream: bool
    searches: int


class ChatService:
    def __init__(
        self,
        catalogue: Catalogue,
        providers: ProviderRegistry,
        ledger: UsageLedger,
        router: ChannelRouter | None = None,
        augmenters: list[Augmenter] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.providers = providers
        self.ledger = ledger
        self.router = router or ChannelRouter()
        self.augmenters = list(augmenters or [])
        self.gate: Gate | None = None  # quotas, allow-lists, rate limits (see build_services)
        self.metrics: Metrics | None = None

    async def _augment(self, request: ChatCompletionRequest, caller: Caller) -> Augmentation:
        """Apply the first augmenter that takes the request (knowledge bases before search)."""
        for augmenter in self.augmenters:
            result = await augmenter.augment(request, caller)
            if result is not None:
                return result
        return Augmentation(request)

    async def _prepare(
        self, request: ChatCompletionRequest, caller: Caller, stream: bool
    ) -> tuple[_Booking, Augmentation]:
        """Resolve the model, admit the caller (before any upstream call), then ground."""
        model = self.catalogue.resolve(request.model)
        if self.gate is not None:  # refused here means no upstream call at all
            await self.gate.admit(caller.key, model.name, request.knowledge_base_ids())
        started = time.perf_counter()
        augmented = await self._augment(request, caller)
        return _Booking(caller, model, started, stream, augmented.searches), augmented

    async def complete(self, request: ChatCompletionRequest, caller: Caller) -> ChatCompletion:
        booking, augmented = await self._prepare(request, caller, stream=False)
        request = augmented.request
        attempts = Attempts(self.router, booking.model)
        try:
            route, response = await attempts.run(
                lambda route: self.providers.get(route.channel.provider).complete(
                    request, route.channel
                )
            )
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        response.id = completion_id()
        response.model = booking.model.name
        for name, value in augmented.response_fields.items():
            setattr(response, name, value)
        await self._record(booking, route.channel, response.usage)
        return response

    async def open_stream(self, request: ChatCompletionRequest, caller: Caller) -> ChatStream:
        """Start a stream; failures before its first chunk raise, so they get a real status."""
        booking, augmented = await self._prepare(request, caller, stream=True)
        request = augmented.request
        attempts = Attempts(self.router, booking.model)
        try:
            route, (source, first) = await attempts.run(lambda route: self._start(request, route))
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        channel = route.channel

        async def settle(
            usage: Usage | None, status: int, code: str | None, estimated: bool
        ) -> None:
            await self._record(
                booking, channel, usage, status=status, code=code, estimated=estimated
            )

        return ChatStream(
            source,
            first,
            request,
            booking.model.name,
            completion_id(),
            settle,
            extras=augmented.response_fields,
        )

    async def _start(self, request: ChatCompletionRequest, route: Route) -> Started:
        """Open a stream on one channel and pull its first chunk (inside the retry loop)."""
        channel = route.channel
        source = self.providers.get(channel.provider).stream(request, channel)
        try:
            first = await first_chunk(source, channel.first_token_timeout)
        except BaseException:
            await close_quietly(source)
            raise
        breaker = self.router.health.breaker(route.id)
        metered = MeteredStream(
            WatchedStream(source, channel.idle_timeout, breaker), prompt_chars(request)
        )
        return metered, metered.count(first)

    @staticmethod
    def _tried(attempts: Attempts, model: ModelConfig) -> ChannelConfig:
        """The channel a failure is booked on: the last one tried."""
        return attempts.last.channel if attempts.last is not None else model.channels[0]

    async def _record(
        self,
        booking: _Booking,
        channel: ChannelConfig,
        usage: Usage | None,
        failure: APIError | None = None,
        *,
        status: int = 200,
        code: str | None = None,
        estimated: bool = False,
    ) -> None:
        if failure is not None:
            status, code = failure.status, failure.code
        usage = usage or Usage()
        caller, model = booking.caller, booking.model
        cost = 0
        if self.gate is not None:
            cost = self.gate.cost(
                caller.key, model, usage.prompt_tokens, usage.completion_tokens, booking.searches
            )
        entry = UsageEntry(
            request_id=caller.request_id,
            key_id=caller.key_id,
            owner=caller.owner,
            model=model.name,
            provider=channel.provider,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            latency_ms=int((time.perf_counter() - booking.started) * 1000),
            status=status,
            error_code=code,
            stream=booking.stream,
            cost_micros=cost,
            searches=booking.searches,
            estimated=estimated,
        )
        try:
            await self.ledger.record(entry)
        except Exception:  # the answer was given; a ledger fault must not turn it into a 500
            log.exception("could not record usage for %s", caller.request_id)
        if self.metrics is not None:
            self.metrics.observe_usage(entry, channel_label(model, channel))
        if self.gate is not None:
            await self.gate.settle(caller.key, entry.total, entry.cost_micros)


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex
