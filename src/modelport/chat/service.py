"""The chat service: resolve the model, pick a channel, call the provider, account for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from ..accounting.booking import book_usage
from ..accounting.gate import Gate
from ..accounting.keys import KeyRecord
from ..accounting.usage import UsageEntry, UsageLedger
from ..observability.metrics import Metrics, channel_label
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion, ChatCompletionChunk, Usage, completion_id
from ..protocol.errors import APIError
from ..providers.base import Provider
from ..providers.openai_relay import RelayChunk, RelayCompletion, RelayProvider
from ..providers.registry import ProviderRegistry
from ..routing.catalogue import Catalogue
from ..routing.retry import Attempts
from ..routing.router import ChannelRouter, Route
from ..routing.timeouts import WatchedStream, close_quietly, first_chunk
from ..settings import ChannelConfig, ModelConfig
from .augment import Augmentation, Augmenter
from .metering import MeteredStream, prompt_chars
from .relay import RelayStream
from .sse import json_bytes
from .stream import ChatStream


@dataclass(frozen=True)
class _ModelStart:
    """An opened stream on some channel: the rest of it, and its first chunk (None if empty)."""

    source: AsyncIterator[ChatCompletionChunk]
    first: ChatCompletionChunk | None


@dataclass(frozen=True)
class _RelayStart:
    """The same for a relayed channel: batches of the upstream's own chunks."""

    source: AsyncIterator[list[RelayChunk]]
    first: list[RelayChunk] | None


@dataclass
class _Abandoned:
    """What a stream that was being opened when its client left had produced (if it knows)."""

    usage: Usage | None = None


_RELAYING: dict[type, bool] = {}  # provider class → is a RelayProvider (a protocol check
# walks every member; once per class is enough)


def _relay_of(provider: Provider, allowed: bool) -> RelayProvider | None:
    """The provider's relay side, when it has one and the answer needs no extension fields
    (knowledge-base cites, search sources ride on our own chunk types)."""
    if not allowed:
        return None
    relaying = _RELAYING.get(type(provider))
    if relaying is None:
        relaying = _RELAYING[type(provider)] = isinstance(provider, RelayProvider)
    return cast(RelayProvider, provider) if relaying else None


@dataclass(frozen=True)
class Caller:
    """Who is asking: the authenticated key and the request's id."""

    key_id: str
    owner: str
    request_id: str
    key: KeyRecord | None = None  # its limits, for the gate; None skips the gate

    @classmethod
    def of(cls, key: KeyRecord, request_id: str) -> Caller:
        return cls(key_id=key.id, owner=key.owner, request_id=request_id, key=key)


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

    def served_locally(self, model_name: str) -> bool:
        """Whether the embedded engine may answer (False for an unknown model)."""
        if model_name not in self.catalogue:
            return False
        return any(c.provider == "local" for c in self.catalogue.resolve(model_name).channels)

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
        started = time.perf_counter()
        try:
            if self.gate is not None:  # refused here means no upstream call at all
                await self.gate.admit(caller.key, model.name, request.knowledge_base_ids())
            augmented = await self._augment(request, caller)
        except asyncio.CancelledError:  # the client left while we were still getting ready
            booking = _Booking(caller, model, started, stream, 0)
            await self._record_abandoned(booking, model.channels[0], None)
            raise
        return _Booking(caller, model, started, stream, augmented.searches), augmented

    async def complete(self, request: ChatCompletionRequest, caller: Caller) -> ChatCompletion:
        answer, model, fields = await self._answer(request, caller, relay=False)
        assert isinstance(answer, ChatCompletion)
        return self._finish(answer, model, fields)

    async def complete_json(self, request: ChatCompletionRequest, caller: Caller) -> bytes:
        """`complete`, as the JSON body the client gets. A relayed channel's answer is the
        upstream's own object with our `id` and model name (no pydantic round trip)."""
        answer, model, fields = await self._answer(request, caller, relay=True)
        if isinstance(answer, RelayCompletion):
            answer.data["id"] = completion_id()
            answer.data["model"] = model.name
            return json_bytes(answer.data)
        return self._finish(answer, model, fields).model_dump_json().encode()

    @staticmethod
    def _finish(
        response: ChatCompletion, model: ModelConfig, fields: dict[str, Any]
    ) -> ChatCompletion:
        response.id = completion_id()
        response.model = model.name
        for name, value in fields.items():
            setattr(response, name, value)
        return response

    async def _answer(
        self, request: ChatCompletionRequest, caller: Caller, *, relay: bool
    ) -> tuple[ChatCompletion | RelayCompletion, ModelConfig, dict[str, Any]]:
        """Call the channels in turn and book the outcome; the answer is still to be finished
        (our id, the public model name, the augmentation's fields)."""
        booking, augmented = await self._prepare(request, caller, stream=False)
        request = augmented.request
        relay = relay and not augmented.response_fields
        attempts = Attempts(self.router, booking.model)

        async def call(route: Route) -> ChatCompletion | RelayCompletion:
            provider = self.providers.get(route.channel.provider)
            relaying = _relay_of(provider, relay)
            if relaying is not None:
                return await relaying.complete_relay(request, route.channel)
            return await provider.complete(request, route.channel)

        try:
            route, response = await attempts.run(call)
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        except asyncio.CancelledError:  # the client left; what was made is not known here
            await self._record_abandoned(booking, self._tried(attempts, booking.model), None)
            raise
        await self._record(booking, route.channel, response.usage)
        return response, booking.model, augmented.response_fields

    async def open_stream(
        self, request: ChatCompletionRequest, caller: Caller
    ) -> ChatStream | RelayStream:
        """Start a stream; failures before its first chunk raise, so they get a real status."""
        booking, augmented = await self._prepare(request, caller, stream=True)
        request = augmented.request
        relay = not augmented.response_fields
        attempts = Attempts(self.router, booking.model)
        abandoned = _Abandoned()
        try:
            route, started = await attempts.run(
                lambda route: self._start(request, route, relay, abandoned)
            )
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        except asyncio.CancelledError:  # the client left before the first chunk
            channel = self._tried(attempts, booking.model)
            await self._record_abandoned(booking, channel, abandoned.usage)
            raise
        channel = route.channel

        async def settle(
            usage: Usage | None, status: int, code: str | None, estimated: bool
        ) -> None:
            await self._record(
                booking, channel, usage, status=status, code=code, estimated=estimated
            )

        name, chat_id = booking.model.name, completion_id()
        if isinstance(started, _RelayStart):
            chars = prompt_chars(request)
            return RelayStream(started.source, started.first, request, name, chat_id, settle, chars)
        extras = augmented.response_fields
        return ChatStream(started.source, started.first, request, name, chat_id, settle, extras)

    async def _start(
        self, request: ChatCompletionRequest, route: Route, relay: bool, abandoned: _Abandoned
    ) -> _ModelStart | _RelayStart:
        """Open a stream on one channel and pull its first chunk (inside the retry loop)."""
        channel = route.channel
        provider = self.providers.get(channel.provider)
        relaying = _relay_of(provider, relay)
        source: AsyncIterator[Any] = (
            relaying.relay(request, channel)
            if relaying is not None
            else provider.stream(request, channel)
        )
        try:
            first = await first_chunk(source, channel.first_token_timeout)
        except BaseException:
            await close_quietly(source)
            known = getattr(source, "usage", None)  # the local engine counts what it did
            abandoned.usage = known if isinstance(known, Usage) else None
            raise
        watched = WatchedStream(source, channel.idle_timeout, self.router.health.breaker(route.id))
        if relaying is not None:
            return _RelayStart(watched, first)
        metered = MeteredStream(watched, prompt_chars(request))
        return _ModelStart(metered, metered.count(first))

    async def _record_abandoned(
        self, booking: _Booking, channel: ChannelConfig, usage: Usage | None
    ) -> None:
        """Book a request whose client left before it had an answer (shielded: the task
        doing it is being cancelled)."""
        record = self._record(booking, channel, usage, status=499, code="client_disconnected")
        await asyncio.shield(record)

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
        await book_usage(
            entry,
            caller.key,
            ledger=self.ledger,
            gate=self.gate,
            metrics=self.metrics,
            channel=channel_label(model, channel),
        )
