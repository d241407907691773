"""Quota holds on an account: taken with the key's in one transaction, bounded by the
account across its keys (and by a key's sub-limit), released, settled, grown and swept on
both rows; the ledger debits both. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from modelport.accounting.keys import KeyStore
from modelport.accounting.redeem import RedemptionCodes
from modelport.accounting.reservations import Hold, Reservations
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.storage.db import Database
from modelport.storage.tables import ApiKey, QuotaReservation, utcnow
from modelport.storage.user_tables import User


async def _user(db: Database, **fields: object) -> str:
    user_id = "usr_" + secrets.token_hex(8)
    async with db.sessions() as session:
        session.add(User(id=user_id, username=user_id, **fields))
        await session.commit()
    return user_id


async def _user_counters(db: Database, user_id: str) -> tuple[int, int, int, int]:
    async with db.sessions() as session:
        u = await session.get(User, user_id)
        assert u is not None
        return (u.used_tokens, u.reserved_tokens, u.used_micros, u.reserved_micros)


async def _key_reserved(db: Database, key_id: str) -> int:
    async with db.sessions() as session:
        return int(
            (await session.scalar(select(ApiKey.reserved_tokens).where(ApiKey.id == key_id))) or 0
        )


async def test_the_account_bounds_all_its_keys(db: Database) -> None:
    user = await _user(db, quota_tokens=100)
    keys = KeyStore(db, cache_ttl=0)
    _, a = await keys.create("a", "o", user_id=user)
    _, b = await keys.create("b", "o", user_id=user)
    assert a.user_limited and a.has_quota and a.user_id == user
    holds = Reservations(db)
    try:
        # Many concurrent holds of 30 over two keys: admitted while anything is left, so at
        # most four (0, 30, 60, 90 held when each was taken).
        taken = await asyncio.gather(
            *(holds.reserve((a, b)[i % 2].id, Hold(30, 0), user) for i in range(10))
        )
        admitted = [r for r in taken if r is not None]
        assert len(admitted) == 4
        assert await _user_counters(db, user) == (0, 120, 0, 0)
        assert await _key_reserved(db, a.id) + await _key_reserved(db, b.id) == 120
        ledger = UsageLedger(db)
        await ledger.record(UsageEntry("r", a.id, "o", "m", "p", 25, 0, reservation=admitted[0]))
        await holds.settle(admitted[1], b.id, Hold(5, 0))
        await holds.grow(admitted[2], a.id, Hold(10, 0))
        assert await _user_counters(db, user) == (25, 5 + 40 + 30, 0, 0)
        await holds.release(admitted[1:])
        assert await _user_counters(db, user) == (25, 0, 0, 0)
        assert await _key_reserved(db, a.id) == await _key_reserved(db, b.id) == 0
    finally:
        await holds.aclose()


async def test_a_refusal_by_the_account_leaves_the_key_untouched(db: Database) -> None:
    user = await _user(db, quota_micros=1000, used_micros=1000)
    keys = KeyStore(db, cache_ttl=0)
    _, key = await keys.create("a", "o", user_id=user, quota_tokens=50)
    holds = Reservations(db)
    try:
        assert await holds.reserve(key.id, Hold(1, 1), user) is None
        assert await _key_reserved(db, key.id) == 0
        assert await holds.spent(key.id)  # the account's money is used up: not just held
        # The key's own sub-limit refuses too, with the account still able to pay.
        roomy = await _user(db, quota_tokens=10**6)
        _, capped = await keys.create("c", "o", user_id=roomy, quota_tokens=10)
        assert await holds.reserve(capped.id, Hold(10, 0), roomy) is not None
        assert await holds.reserve(capped.id, Hold(1, 0), roomy) is None
        assert await _user_counters(db, roomy) == (0, 10, 0, 0)
    finally:
        await holds.aclose()


async def test_expired_holds_are_swept_off_both_rows(db: Database) -> None:
    user = await _user(db, quota_tokens=100)
    _, key = await KeyStore(db, cache_ttl=0).create("a", "o", user_id=user)
    holds = Reservations(db)
    try:
        assert await holds.reserve(key.id, Hold(40, 7), user) is not None
        async with db.engine.begin() as conn:
            past = utcnow() - timedelta(seconds=1)
            await conn.execute(update(QuotaReservation).values(expires_at=past))
        assert await holds.sweep() == 1
        assert await _user_counters(db, user) == (0, 0, 0, 0)
        assert await _key_reserved(db, key.id) == 0
    finally:
        await holds.aclose()


async def test_codes_credit_the_account_and_unlimited_stays_unlimited(db: Database) -> None:
    keys = KeyStore(db, cache_ttl=0)
    codes = RedemptionCodes(db)
    limited = await _user(db, quota_tokens=10)
    unlimited = await _user(db)
    _, a = await keys.create("a", "o", user_id=limited, quota_tokens=3)
    _, b = await keys.create("b", "o", user_id=unlimited)
    _, loose = await keys.create("c", "o")  # no account, no quota
    minted = await codes.create_batch("t", 4, tokens=100)
    (one, _), (two, _), (three, _), (four, four_record) = minted
    assert await codes.redeem(one, a.id) is not None
    assert await codes.redeem(two, b.id) is not None
    assert await codes.redeem(three, loose.id) is not None
    assert await _user_counters(db, limited) == (0, 0, 0, 0)
    async with db.sessions() as session:
        assert (await session.get(User, limited)).quota_tokens == 110  # type: ignore[union-attr]
        assert (await session.get(User, unlimited)).quota_tokens is None  # type: ignore[union-attr]
        assert (await session.get(ApiKey, a.id)).quota_tokens == 3  # type: ignore[union-attr]
        assert (await session.get(ApiKey, loose.id)).quota_tokens is None  # type: ignore[union-attr]
    await codes.disable(four_record.id)
    assert await codes.redeem(four, a.id) is None
    listed = {c.id: c for c in await codes.list("t")}
    assert listed[four_record.id].status == "disabled"
    assert sorted(c.redeemed_user_id or "-" for c in listed.values()) == sorted(
        [limited, unlimited, "-", "-"]
    )
