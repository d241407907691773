"""Booking a finished request: its ledger row, its key's balance and TPM window, its metrics.

Chat completions and embeddings book the same way; a fault here is logged, never raised (the
answer was already given, and must not turn into a 500).
"""

from __future__ import annotations

import logging
from typing import Protocol

from .gate import Gate
from .keys import KeyRecord
from .usage import UsageEntry, UsageLedger

log = logging.getLogger(__name__)


class UsageObserver(Protocol):
    def observe_usage(self, entry: UsageEntry, channel: str) -> None: ...


async def book_usage(
    entry: UsageEntry,
    key: KeyRecord | None,
    *,
    ledger: UsageLedger,
    gate: Gate | None,
    metrics: UsageObserver | None,
    channel: str,
) -> None:
    try:
        await ledger.record(entry)
    except Exception:
        log.exception("could not record usage for %s", entry.request_id)
    if metrics is not None:
        metrics.observe_usage(entry, channel)
    if gate is not None:
        await gate.settle(key, entry.total, entry.cost_micros, entry.reservation)
