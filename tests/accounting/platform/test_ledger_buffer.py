"""The write-behind ledger: rows are readable once flushed, and the rest is written at close."""

from __future__ import annotations

from modelport.accounting.keys import KeyStore
from modelport.accounting.ledger_buffer import BufferedLedger
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.storage.db import Database


def _entry(key_id: str, tokens: int, micros: int) -> UsageEntry:
    return UsageEntry("req", key_id, "o", "m", "p", tokens, 0, cost_micros=micros)


async def test_buffered_rows_are_written_when_flushed(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    ledger = BufferedLedger(db, interval=3600)  # only explicit flushes in this test
    reader = UsageLedger(db)
    for _ in range(3):
        await ledger.record(_entry(key.id, 10, 7))
    assert (await reader.totals(key_id=key.id))["requests"] == 0
    await ledger.flush()
    totals = await reader.totals(key_id=key.id)
    assert (totals["requests"], totals["total_tokens"], totals["cost_micros"]) == (3, 30, 21)
    stored = await keys.get(key.id)
    assert stored is not None and (stored.used_tokens, stored.used_micros) == (30, 21)
    await ledger.record(_entry(key.id, 5, 0))
    await ledger.aclose()  # writes the rest
    assert (await reader.totals(key_id=key.id))["total_tokens"] == 35
