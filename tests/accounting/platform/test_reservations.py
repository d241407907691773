"""Quota holds on SQLite and PostgreSQL: taken atomically at admission, released by the usage
row that settles them (in its transaction), given back on refusal, swept after a crash."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from modelport.accounting.gate import Gate
from modelport.accounting.keys import KeyStore
from modelport.accounting.ledger_buffer import BufferedLedger
from modelport.accounting.ratelimit import LocalRateLimiter
from modelport.accounting.reservations import Hold, Reservations
from modelport.accounting.usage import UsageEntry
from modelport.protocol.errors import APIError
from modelport.storage.db import Database
from modelport.storage.tables import ApiKey, QuotaReservation, utcnow


async def _counters(db: Database, key_id: str) -> tuple[int, int, int, int]:
    async with db.sessions() as session:
        row = (
            await session.execute(
                select(
                    ApiKey.used_tokens,
                    ApiKey.reserved_tokens,
                    ApiKey.used_micros,
                    ApiKey.reserved_micros,
                ).where(ApiKey.id == key_id)
            )
        ).one()
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def _holds(db: Database) -> int:
    async with db.sessions() as session:
        return len((await session.scalars(select(QuotaReservation.id))).all())


def _entry(key_id: str, tokens: int, reservation: str | None) -> UsageEntry:
    return UsageEntry("req", key_id, "o", "m", "p", tokens, 0, reservation=reservation)


async def test_a_key_is_admitted_while_anything_is_left(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    holds = Reservations(db)
    try:
        first = await holds.reserve(key.id, Hold(60, 0))
        second = await holds.reserve(key.id, Hold(60, 0))  # 60 of 100 held: still admitted
        assert first is not None and second is not None
        assert await holds.reserve(key.id, Hold(1, 0)) is None  # 120 held: nothing left
        assert await _counters(db, key.id) == (0, 120, 0, 0)

        ledger = BufferedLedger(db, interval=3600)
        await ledger.record(_entry(key.id, 10, first))
        # Until its row is written the request's hold stands (no gap where it is neither).
        assert await _counters(db, key.id) == (0, 120, 0, 0)
        await ledger.flush()
        assert await _counters(db, key.id) == (10, 60, 0, 0)
        assert await _holds(db) == 1
        assert await holds.reserve(key.id, Hold(5, 0)) is not None  # 70 of 100
        await ledger.aclose()
    finally:
        await holds.aclose()


async def test_a_finished_request_holds_what_it_spent_until_its_row_is_written(
    db: Database,
) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100, quota_micros=10_000)
    gate = Gate(Reservations(db), LocalRateLimiter())
    ledger = BufferedLedger(db, interval=3600)
    try:
        held = await gate.admit(key, "m", [], Hold(90, 9_000))
        assert await gate.admit(key, "m", [], Hold(90, 9_000)) is not None  # 90 < 100
        assert await _counters(db, key.id) == (0, 180, 0, 18_000)
        await ledger.record(_entry(key.id, 7, held))
        await gate.settle(key, 7, 700, held)
        assert await _counters(db, key.id) == (0, 97, 0, 9_700)
        await ledger.flush()  # the row: 7 used, its 7 held released
        assert await _counters(db, key.id) == (7, 90, 0, 9_000)
    finally:
        await ledger.aclose()
        await gate.aclose()


async def test_a_held_quota_and_a_spent_one_are_told_apart(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    gate = Gate(Reservations(db), LocalRateLimiter())
    ledger = BufferedLedger(db, interval=3600)
    try:
        held = await gate.admit(key, "m", [], Hold(100, 0))
        with pytest.raises(APIError) as busy:
            await gate.admit(key, "m", [], Hold(1, 0))
        assert (busy.value.status, busy.value.code) == (429, "quota_held")
        assert busy.value.headers == {"Retry-After": "1"}
        await ledger.record(_entry(key.id, 100, held))
        await gate.settle(key, 100, 0, held)
        await ledger.flush()
        with pytest.raises(APIError) as spent:
            await gate.admit(key, "m", [], Hold(1, 0))
        assert (spent.value.status, spent.value.code) == (429, "insufficient_quota")
    finally:
        await ledger.aclose()
        await gate.aclose()


async def test_a_money_quota_holds_the_priced_worst_case(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_micros=1_000)
    holds = Reservations(db)
    try:
        assert await holds.reserve(key.id, Hold(3, 900)) is not None
        assert await holds.reserve(key.id, Hold(3, 900)) is not None  # 900 < 1,000
        assert await holds.reserve(key.id, Hold(3, 1)) is None
    finally:
        await holds.aclose()


async def test_concurrent_holds_overdraw_by_at_most_one(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=50)
    holds = [Reservations(db), Reservations(db)]  # two replicas' worth, one database
    try:
        taken = await asyncio.gather(
            *(holds[i % 2].reserve(key.id, Hold(30, 0)) for i in range(20))
        )
        # 0 < 50 admits one, 30 < 50 a second, 60 >= 50 nobody else.
        assert sum(t is not None for t in taken) == 2
        assert await _counters(db, key.id) == (0, 60, 0, 0)
    finally:
        for h in holds:
            await h.aclose()


async def test_refusals_and_failures_give_the_hold_back(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100, rpm=1)
    gate = Gate(Reservations(db), LocalRateLimiter())
    try:
        held = await gate.admit(key, "m", [], Hold(40, 0))
        assert held is not None
        with pytest.raises(APIError) as refused:  # over the RPM after the quota was held
            await gate.admit(key, "m", [], Hold(40, 0))
        assert refused.value.code == "rate_limit_exceeded"
        assert await _counters(db, key.id) == (0, 40, 0, 0)
        await gate.release(held)  # e.g. grounding refused the request: no usage row comes
        assert await _counters(db, key.id) == (0, 0, 0, 0)
        assert await _holds(db) == 0
        await gate.release(held)  # twice is harmless: nothing is taken off twice
        assert await _counters(db, key.id) == (0, 0, 0, 0)
    finally:
        await gate.aclose()


async def test_a_hold_grows_with_what_grounding_added(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    holds = Reservations(db)
    try:
        held = await holds.reserve(key.id, Hold(10, 0))
        assert held is not None
        await holds.grow(held, key.id, Hold(95, 0))
        assert await _counters(db, key.id) == (0, 105, 0, 0)
        assert await holds.reserve(key.id, Hold(1, 0)) is None
        await holds.release([held])
        assert await _counters(db, key.id) == (0, 0, 0, 0)
    finally:
        await holds.aclose()


async def test_holds_of_a_dead_process_expire(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    holds = Reservations(db, ttl=60)
    try:
        dead = await holds.reserve(key.id, Hold(100, 7))
        live = await holds.reserve(key.id, Hold(1, 0))  # refused: 100 held
        assert dead is not None and live is None
        assert await holds.sweep() == 0  # not expired yet
        async with db.sessions() as session, session.begin():
            await session.execute(
                update(QuotaReservation)
                .where(QuotaReservation.id == dead)
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert await holds.sweep() == 1
        assert await _counters(db, key.id) == (0, 0, 0, 0)
        # The dying request's row arriving late books its usage and takes nothing off twice.
        ledger = BufferedLedger(db, interval=3600)
        await ledger.record(_entry(key.id, 30, dead))
        await ledger.aclose()
        assert await _counters(db, key.id) == (30, 0, 0, 0)
    finally:
        await holds.aclose()


async def test_a_client_leaving_during_admission_leaves_no_hold(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", quota_tokens=100)
    holds = Reservations(db)
    try:
        admission = asyncio.ensure_future(holds.reserve(key.id, Hold(50, 0)))
        await asyncio.sleep(0)  # the write is under way
        admission.cancel()
        with pytest.raises(asyncio.CancelledError):
            await admission
        await holds.aclose()  # waits for the write, then its hold is given back
        assert await _counters(db, key.id) == (0, 0, 0, 0)
        assert await _holds(db) == 0
    finally:
        await holds.aclose()
