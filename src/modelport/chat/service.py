"""The chat service: resolve the model, pick a channel, call the provider, account for it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..accounting.booking import book_usage
from ..accounting.gate import Gate
from ..accounting.keys import KeyRecord
from ..accounting.reservations import Hold
from ..accounting.usage import UsageEntry, UsageLedger
from ..observability.metrics import Metrics, channel_label
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion, Usage, completion_id
from ..protocol.errors import APIError
from ..providers.budget import (
    OutputBudget,
    estimate_tokens,
    guard_usage,
    prompt_chars,
    prompt_hold,
)
from ..providers.registry import ProviderRegistry
from ..providers.stream import Batch, StreamEnd
from ..routing.catalogue import Catalogue
from ..routing.retry import Attempts
from ..routing.router import ChannelRouter, Route
from ..routing.timeouts import WatchedStream, close_quietly, first_batch
from ..settings import ModelConfig, UpstreamSettings
from .augment import Augmentation, Augmenter
from .stream import ChatStream, Shape


@dataclass
class _Abandoned:
    """What a stream that was being opened when its client left had produced (if known)."""

    end: StreamEnd | None = None


@dataclass(frozen=True)
class Caller:
    """Who is asking: the authenticated key and the request's id."""

    key_id: str
    owner: str
    request_id: str
    key: KeyRecord | None = None  # its limits, for the gate; None skips the gate

    @property
    def group(self) -> str | None:
        """The caller's user group, which decides the channels that may serve it."""
        return None if self.key is None else self.key.group

    @property
    def user_id(self) -> str | None:
        """The account owning the key, for the request log."""
        return None if self.key is None else self.key.user_id

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
    reservation: str | None = None  # the quota hold the request's usage row releases


class ChatService:
    def __init__(
        self,
        catalogue: Catalogue,
        providers: ProviderRegistry,
        ledger: UsageLedger,
        *,
        router: ChannelRouter | None = None,
        augmenters: list[Augmenter] | None = None,
        gate: Gate | None = None,
        metrics: Metrics | None = None,
        limits: UpstreamSettings | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.providers = providers
        self.ledger = ledger
        self.router = router or ChannelRouter()
        self.augmenters = list(augmenters or [])  # knowledge bases before web search
        self.gate = gate  # quotas, allow-lists, rate limits; None: accounting is off
        self.metrics = metrics
        self.limits = limits or UpstreamSettings()  # what an upstream may send and bill

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
        """Resolve the model, admit the caller (before any upstream call, holding the request's
        worst case against a quota), then ground, holding what grounding added."""
        model = self.catalogue.resolve(request.model)
        started = time.perf_counter()
        reservation, hold = None, self._hold(request, caller, model, 0)
        try:
            if self.gate is not None:  # refused here means no upstream call at all
                kb_ids = request.knowledge_base_ids()
                reservation = await self.gate.admit(caller.key, model.name, kb_ids, hold)
            augmented = await self._augment(request, caller)
            grounded = augmented.request is not request or augmented.searches
            if self.gate is not None and hold is not None and grounded:
                more = self._hold(augmented.request, caller, model, augmented.searches)
                extra = Hold(more.tokens - hold.tokens, more.micros - hold.micros) if more else None
                await self.gate.grow(reservation, caller.key, extra or Hold(0, 0))
        except asyncio.CancelledError:  # the client left while we were still getting ready
            booking = _Booking(caller, model, started, stream, 0, reservation)
            await self._record_abandoned(booking, self._first_route(model), None)
            raise
        except BaseException:  # refused by grounding: no row, so give the hold back
            if self.gate is not None:
                await asyncio.shield(self.gate.release(reservation))
            raise
        booking = _Booking(caller, model, started, stream, augmented.searches, reservation)
        return booking, augmented

    def _hold(
        self, request: ChatCompletionRequest, caller: Caller, model: ModelConfig, searches: int
    ) -> Hold | None:
        """The request's worst case, for a key with a quota: its prompt, `max_tokens` × n."""
        if self.gate is None or caller.key is None or not caller.key.has_quota:
            return None
        completion = OutputBudget.of(request, self.limits).tokens
        return self.gate.hold(caller.key, model, prompt_hold(request), completion, searches)

    async def complete(self, request: ChatCompletionRequest, caller: Caller) -> ChatCompletion:
        """Call the channels in turn, book the outcome, and finish the answer (our id, the
        public model name, the augmentation's fields)."""
        booking, augmented = await self._prepare(request, caller, stream=False)
        request = augmented.request
        attempts = Attempts(self.router, booking.model, booking.caller.group)

        async def call(route: Route) -> ChatCompletion:
            return await self.providers.get(route.channel.provider).complete(request, route.channel)

        try:
            route, response = await attempts.run(call)
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        except asyncio.CancelledError:  # the client left; what was made is not known here
            await self._record_abandoned(booking, self._tried(attempts, booking.model), None)
            raise
        usage, estimated = _billed_completion(response, request, self.limits)
        latency = _ms_since(booking.started)  # an answer in one piece: its first token is all
        await self._record(booking, route, usage, estimated=estimated, ttft_ms=latency)
        response.id = completion_id()
        response.model = booking.model.name
        for name, value in augmented.response_fields.items():
            setattr(response, name, value)
        return response

    async def open_stream(
        self,
        request: ChatCompletionRequest,
        caller: Caller,
        shape: Shape | None = None,
        stream_type: type[ChatStream] = ChatStream,
    ) -> ChatStream:
        """Start a stream; failures before its first chunk raise, so they get a real status.
        `shape` gives the chunks another wire form (a legacy completion's); `stream_type`
        another framing altogether (a Messages stream's named events)."""
        booking, augmented = await self._prepare(request, caller, stream=True)
        request = augmented.request
        attempts = Attempts(self.router, booking.model, booking.caller.group)
        abandoned = _Abandoned()
        try:
            route, (source, first) = await attempts.run(
                lambda route: self._start(request, route, abandoned)
            )
        except APIError as exc:
            await self._record(booking, self._tried(attempts, booking.model), None, exc)
            raise
        except asyncio.CancelledError:  # the client left before the first chunk
            tried = self._tried(attempts, booking.model)
            end = abandoned.end
            await self._record_abandoned(booking, tried, end)
            raise
        ttft = _ms_since(booking.started)  # the first chunk is in hand

        async def settle(usage: Usage, status: int, code: str | None, estimated: bool) -> None:
            await self._record(
                booking, route, usage, status=status, code=code, estimated=estimated, ttft_ms=ttft
            )

        def progress(usage: Usage, estimated: bool) -> None:
            # What a crash would otherwise lose: replayed as interrupted if no final row comes.
            entry = self._entry(booking, route, usage, 499, "interrupted", estimated, ttft)
            self.ledger.progress(entry)

        name, chat_id, extras = booking.model.name, completion_id(), augmented.response_fields
        return stream_type(source, first, request, name, chat_id, settle, extras, progress, shape)

    async def _start(
        self, request: ChatCompletionRequest, route: Route, abandoned: _Abandoned
    ) -> tuple[WatchedStream, Batch | None]:
        """Open a stream on one channel and pull its first batch (inside the retry loop)."""
        channel = route.channel
        source = self.providers.get(channel.provider).stream(request, channel)
        try:
            first = await first_batch(source, channel.first_token_timeout)
        except BaseException:
            await close_quietly(source)
            abandoned.end = source.billed()
            raise
        breaker = self.router.health.breaker(route.id)
        return WatchedStream(source, channel, channel.idle_timeout, breaker), first

    async def _record_abandoned(
        self, booking: _Booking, route: Route, end: StreamEnd | None
    ) -> None:
        """Book a request whose client left before it had an answer (shielded: the task
        doing it is being cancelled)."""
        usage, estimated = (end.usage, end.estimated) if end is not None else (None, False)
        record = self._record(
            booking, route, usage, status=499, code="client_disconnected", estimated=estimated
        )
        await asyncio.shield(record)

    def _first_route(self, model: ModelConfig) -> Route:
        return Route(self.router.route_id(model, 0), model.channels[0])

    def _tried(self, attempts: Attempts, model: ModelConfig) -> Route:
        """The route a failure is booked on: the last one tried."""
        return attempts.last if attempts.last is not None else self._first_route(model)

    async def _record(
        self,
        booking: _Booking,
        route: Route,
        usage: Usage | None,
        failure: APIError | None = None,
        *,
        status: int = 200,
        code: str | None = None,
        estimated: bool = False,
        ttft_ms: int | None = None,
    ) -> None:
        if failure is not None:
            status, code = failure.status, failure.code
        entry = self._entry(booking, route, usage or Usage(), status, code, estimated, ttft_ms)
        await book_usage(
            entry,
            booking.caller.key,
            ledger=self.ledger,
            gate=self.gate,
            metrics=self.metrics,
            channel=channel_label(booking.model, route.channel),
        )

    def _entry(
        self,
        booking: _Booking,
        route: Route,
        usage: Usage,
        status: int,
        code: str | None,
        estimated: bool,
        ttft_ms: int | None = None,
    ) -> UsageEntry:
        caller, model, channel = booking.caller, booking.model, route.channel
        cost = 0
        if self.gate is not None:
            cost = self.gate.cost(
                caller.key,
                model,
                usage.prompt_tokens,
                usage.completion_tokens,
                booking.searches,
                usage.cached_tokens,
                price=channel.price,
            )
        return UsageEntry(
            request_id=caller.request_id,
            key_id=caller.key_id,
            owner=caller.owner,
            model=model.name,
            provider=channel.provider,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cached_tokens=usage.cached_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            latency_ms=_ms_since(booking.started),
            status=status,
            error_code=code,
            stream=booking.stream,
            cost_micros=cost,
            searches=booking.searches,
            estimated=estimated,
            reservation=booking.reservation,
            channel=route.id,
            channel_name=channel.name,
            user_id=caller.user_id,
            ttft_ms=ttft_ms,
        )


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _billed_completion(
    response: ChatCompletion, request: ChatCompletionRequest, limits: UpstreamSettings
) -> tuple[Usage, bool]:
    """The completion's usage, kept within what the request can have cost, or an estimate
    when the upstream reported none; True when it is an estimate (or was corrected)."""
    chars = 0
    for choice in response.choices:
        message = choice.message
        chars += len(message.content or "") + len(message.reasoning_content or "")
        for call in message.tool_calls or ():
            chars += len(call.function.name) + len(call.function.arguments)
        if message.function_call is not None:
            chars += len(message.function_call.name) + len(message.function_call.arguments)
    usage = response.usage
    if usage.total_tokens or usage.prompt_tokens or usage.completion_tokens:
        usage, corrected = guard_usage(
            usage,
            request,
            prompt_chars=prompt_chars(request),
            completion_chars=chars,
            budget=OutputBudget.of(request, limits),
        )
    else:
        usage = Usage.of(estimate_tokens(prompt_chars(request)), estimate_tokens(chars))
        corrected = True
    response.usage = usage
    return usage, corrected
