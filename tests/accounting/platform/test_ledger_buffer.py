"""The write-behind ledger and the gate's balances: exact on one replica before any write."""

from __future__ import annotations

from modelport.accounting.balance import Balances
from modelport.accounting.keys import KeyStore
from modelport.accounting.ledger_buffer import BufferedLedger
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.storage.db import Database


def _entry(key_id: str, tokens: int, micros: int) -> UsageEntry:
    return UsageEntry("req", key_id, "o", "m", "p", tokens, 0, cost_micros=micros)


async def test_buffered_rows_are_pending_until_flushed(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    ledger = BufferedLedger(db, interval=3600)  # only explicit flushes in this test
    reader = UsageLedger(db)
    for _ in range(3):
        await ledger.record(_entry(key.id, 10, 7))
    assert ledger.pending(key.id) == (30, 21)
    assert (await reader.totals(key_id=key.id))["requests"] == 0
    await ledger.flush()
    assert ledger.pending(key.id) == (0, 0)
    totals = await reader.totals(key_id=key.id)
    assert (totals["requests"], totals["total_tokens"], totals["cost_micros"]) == (3, 30, 21)
    stored = await keys.get(key.id)
    assert stored is not None and (stored.used_tokens, stored.used_micros) == (30, 21)
    await ledger.record(_entry(key.id, 5, 0))
    await ledger.aclose()  # writes the rest
    assert (await reader.totals(key_id=key.id))["total_tokens"] == 35


async def test_balances_count_unwritten_and_own_spending(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100, quota_micros=1000)
    ledger = BufferedLedger(db, interval=3600)
    now = [0.0]
    balances = Balances(keys, ledger.pending, ttl=1.0, clock=lambda: now[0])
    await ledger.record(_entry(key.id, 60, 0))  # not written yet
    assert not await balances.exhausted(key.id)
    balances.debit(key.id, 40, 0)  # this replica's next request
    assert await balances.exhausted(key.id)
    await ledger.aclose()
    await keys.update(key.id, {"quota_tokens": 500})
    assert await balances.exhausted(key.id)  # cached for `ttl`
    balances.forget(key.id)
    assert not await balances.exhausted(key.id)
    await keys.update(key.id, {"quota_micros": 0})
    now[0] += 1.5
    assert await balances.exhausted(key.id)
