"""Quota balances for the gate, without a database read per request.

A key's quota and usage counters are read from the store at most once per `ttl` seconds; in
between, this replica's own spending is added as it happens (`debit`) and what its ledger has
not written yet is counted (`pending`). So on one replica a quota holds exactly; across
replicas another one's spending is seen within `ttl`, which bounds the overdraft to what the
key can spend in that time. Admin changes and redemptions call `forget` to take effect at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .keys import KeyStore

Pending = Callable[[str], tuple[int, int]]


@dataclass
class _Balance:
    deadline: float
    quota_tokens: int | None
    quota_micros: int | None
    used_tokens: int
    used_micros: int


class Balances:
    def __init__(
        self,
        keys: KeyStore,
        pending: Pending,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._pending = pending
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, _Balance] = {}

    async def exhausted(self, key_id: str) -> bool:
        balance = self._cache.get(key_id)
        if balance is None or balance.deadline <= self._clock():
            balance = await self._load(key_id)
            if balance is None:
                return True
        if balance.quota_tokens is not None and balance.used_tokens >= balance.quota_tokens:
            return True
        return balance.quota_micros is not None and balance.used_micros >= balance.quota_micros

    def debit(self, key_id: str, tokens: int, micros: int) -> None:
        balance = self._cache.get(key_id)
        if balance is not None:
            balance.used_tokens += tokens
            balance.used_micros += micros

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)

    async def _load(self, key_id: str) -> _Balance | None:
        record = await self._keys.get(key_id)
        if record is None:
            return None
        unwritten_tokens, unwritten_micros = self._pending(key_id)
        balance = _Balance(
            self._clock() + self._ttl,
            record.quota_tokens,
            record.quota_micros,
            record.used_tokens + unwritten_tokens,
            record.used_micros + unwritten_micros,
        )
        if len(self._cache) >= 10_000:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key_id] = balance
        return balance
