from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from modelport.accounting.keys import KeyStore
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.storage.db import Database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _entry(key_id: str, owner: str, n: int, at: datetime, **extra: object) -> UsageEntry:
    return UsageEntry(
        request_id=f"req-{key_id}-{n}",
        key_id=key_id,
        owner=owner,
        model="smollm2-135m-instruct",
        provider="local",
        prompt_tokens=10 * n,
        completion_tokens=n,
        latency_ms=5 * n,
        created_at=at,
        **extra,  # type: ignore[arg-type]
    )


async def test_totals_are_exact_per_key_owner_and_window(db: Database) -> None:
    store = KeyStore(db)
    _, a1 = await store.create("a1", "alice")
    _, a2 = await store.create("a2", "alice")
    _, b1 = await store.create("b1", "bob")
    ledger = UsageLedger(db)
    for n in range(1, 6):  # a1 at T0+1h … T0+5h
        await ledger.record(_entry(a1.id, "alice", n, T0 + timedelta(hours=n)))
    await ledger.record(_entry(a2.id, "alice", 7, T0, status=500, error_code="upstream_error"))
    await ledger.record(_entry(b1.id, "bob", 3, T0, stream=True, total_tokens=100))

    def sums(ns: list[int], total: int | None = None) -> dict[str, int]:
        prompt, completion = sum(10 * n for n in ns), sum(ns)
        return {
            "requests": len(ns),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion if total is None else total,
        }

    def tokens(totals: dict[str, int]) -> dict[str, int]:
        return {
            k: totals[k] for k in ("requests", "prompt_tokens", "completion_tokens", "total_tokens")
        }

    assert tokens(await ledger.totals(key_id=a1.id)) == sums([1, 2, 3, 4, 5])
    assert tokens(await ledger.totals(owner="alice")) == sums([1, 2, 3, 4, 5, 7])
    assert tokens(await ledger.totals(owner="bob")) == sums([3], total=100)
    everything = await ledger.totals()
    assert everything["requests"] == 7
    assert everything["total_tokens"] == sums([1, 2, 3, 4, 5, 7])["total_tokens"] + 100
    # `since` is inclusive, `until` exclusive; offsets other than UTC mean the same instant.
    window = await ledger.totals(
        key_id=a1.id,
        since=T0 + timedelta(hours=2),
        until=(T0 + timedelta(hours=4)).astimezone(timezone(timedelta(hours=8))),
    )
    assert tokens(window) == sums([2, 3])
    assert tokens(await ledger.totals(owner="nobody")) == sums([])


async def test_recent_is_newest_first_and_round_trips(db: Database) -> None:
    store = KeyStore(db)
    _, key = await store.create("k", "carol")
    ledger = UsageLedger(db)
    for n in range(1, 5):
        await ledger.record(
            _entry(key.id, "carol", n, T0 + timedelta(minutes=n), stream=n % 2 == 0)
        )
    latest = await ledger.recent(key.id, limit=3)
    assert [e.request_id for e in latest] == [f"req-{key.id}-{n}" for n in (4, 3, 2)]
    newest = latest[0]
    assert newest.created_at == T0 + timedelta(minutes=4)
    assert newest.created_at is not None and newest.created_at.tzinfo == UTC
    assert (newest.prompt_tokens, newest.completion_tokens, newest.total) == (40, 4, 44)
    assert newest.stream is True and newest.status == 200 and newest.error_code is None
    assert await ledger.recent("key_none", limit=5) == []


async def test_entries_without_a_time_get_now(db: Database) -> None:
    store = KeyStore(db)
    _, key = await store.create("k", "dave")
    ledger = UsageLedger(db)
    before = datetime.now(UTC)
    await ledger.record(
        UsageEntry(request_id="r", key_id=key.id, owner="dave", model="m", provider="p")
    )
    (entry,) = await ledger.recent(key.id, limit=10)
    assert entry.created_at is not None
    assert before - timedelta(seconds=1) <= entry.created_at <= datetime.now(UTC)
    assert (await ledger.totals(since=before - timedelta(seconds=1)))["requests"] == 1
