"""One metered request outside the chat pipeline (embeddings, rerank, images): admitted with
its quota hold before the work, booked once after it, its hold given back if the work fails.

    async with Metered(services, key, request_id, model, hold) as meter:
        ...the work...
    await meter.book(provider="local", prompt_tokens=tokens)
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Protocol

from .booking import UsageObserver, book_usage
from .gate import Gate
from .keys import KeyRecord
from .reservations import Hold
from .usage import UsageEntry, UsageLedger


class Accounting(Protocol):
    """What metering needs of the services (the app's `Services` has it)."""

    @property
    def gate(self) -> Gate | None: ...
    @property
    def ledger(self) -> UsageLedger: ...
    @property
    def metrics(self) -> UsageObserver | None: ...


class Metered:
    def __init__(
        self, services: Accounting, key: KeyRecord, request_id: str, model: str, hold: Hold
    ) -> None:
        self._services = services
        self._key = key
        self._request_id = request_id
        self._model = model
        self._hold = hold
        self._reservation: str | None = None
        self._started = 0.0

    async def __aenter__(self) -> Metered:
        """Admits the key (allow-list, quota hold, rate limits): raises the client's error."""
        gate = self._services.gate
        if gate is not None:
            self._reservation = await gate.admit(self._key, self._model, [], self._hold)
        self._started = time.perf_counter()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        gate = self._services.gate
        if error is not None and gate is not None:  # no row will come: give the hold back
            await asyncio.shield(gate.release(self._reservation))

    async def book(
        self,
        *,
        provider: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int | None = None,
        cost_micros: int = 0,
        estimated: bool = False,
        detail: str | None = None,
        channel: str | None = None,
        channel_name: str | None = None,
    ) -> None:
        """The request's usage row (which settles its hold) and its metrics. The log's
        channel is `channel`, else the provider (these requests have no routed channel)."""
        latency = int((time.perf_counter() - self._started) * 1000)
        user_id = self._key.user_id
        entry = UsageEntry(
            request_id=self._request_id,
            key_id=self._key.id,
            owner=self._key.owner,
            model=self._model,
            provider=provider,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=total_tokens,
            latency_ms=latency,
            cost_micros=cost_micros,
            estimated=estimated,
            reservation=self._reservation,
            detail=detail,
            channel=channel or provider,
            channel_name=channel_name,
            user_id=user_id,
            ttft_ms=latency,  # an answer in one piece
        )
        services = self._services
        await book_usage(
            entry,
            self._key,
            ledger=services.ledger,
            gate=services.gate,
            metrics=services.metrics,
            channel=provider,
        )
