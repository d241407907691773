"""Migration 0012's data step: a database at 0011 with keys, quotas, usage and a hold in
flight is upgraded; every owner becomes an account owning its keys, and every key can spend
exactly what it could before (no unit lost, none added; unlimited stays unlimited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select, text

from modelport.accounting.gate import Gate, insufficient_quota
from modelport.accounting.keys import KeyStore, hash_key
from modelport.accounting.ratelimit import LocalRateLimiter
from modelport.accounting.reservations import Hold, Reservations
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.protocol.errors import APIError
from modelport.storage.db import MIGRATIONS_DIR, Database
from modelport.storage.tables import ApiKey
from modelport.storage.user_tables import User, UserGroup

# id, owner, admin, quota_tokens, used_tokens, reserved_tokens, quota_micros, used_micros
KEYS = [
    ("key_a1", "Alice Smith", False, 100, 60, 5, None, 0),
    ("key_a2", "Alice Smith", False, None, 7, 0, 2_000_000, 1_500_000),
    ("key_b", "bob@example.com", False, None, 40, 0, None, 9),
    ("key_c", "alice-smith", False, 10, 10, 0, None, 0),  # same username after cleaning
    ("key_admin", "key_admin", True, None, 0, 0, None, 0),
]


def _upgrade_to(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _seed(conn: Connection) -> None:
    naive = conn.dialect.name == "sqlite"
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if naive else now
    for key_id, owner, admin, qt, ut, rt, qm, um in KEYS:
        conn.execute(
            text(
                "INSERT INTO api_keys (id, key_hash, display, name, owner, is_admin, created_at,"
                " quota_tokens, used_tokens, reserved_tokens, quota_micros, used_micros,"
                " reserved_micros, group_multiplier) VALUES (:id, :h, 'sk-…', 'k', :owner,"
                " :admin, :now, :qt, :ut, :rt, :qm, :um, 0, 1.0)"
            ),
            {
                "id": key_id,
                "h": hash_key("sk-" + key_id),
                "owner": owner,
                "admin": admin,
                "now": stamp,
                "qt": qt,
                "ut": ut,
                "rt": rt,
                "qm": qm,
                "um": um,
            },
        )
        conn.execute(  # usage rows refer to the key (its rebuild must keep them valid)
            text(
                "INSERT INTO usage_records (id, request_id, key_id, owner, model, provider,"
                " prompt_tokens, completion_tokens, total_tokens, latency_ms, status, stream,"
                " created_at) VALUES (:id, 'r', :key, :owner, 'm', 'p', 1, 1, 2, 1, 200, :f,"
                " :now)"
            ),
            {"id": "use_" + key_id, "key": key_id, "owner": owner, "f": False, "now": stamp},
        )
    later = now + timedelta(minutes=5)
    conn.execute(  # a request in flight on key_a1 across the upgrade
        text(
            "INSERT INTO quota_reservations (id, key_id, tokens, micros, expires_at, settled)"
            " VALUES ('rsv_old', 'key_a1', 5, 0, :at, :f)"
        ),
        {"at": later.replace(tzinfo=None) if naive else later, "f": False},
    )


async def test_owners_become_accounts_and_every_unit_stays_spendable(db_url: str) -> None:
    db = Database(db_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0011_channels")
            await conn.run_sync(_seed)
        await db.migrate()  # 0012 and whatever follows
        async with db.sessions() as session:
            users = {u.display_name: u for u in (await session.scalars(select(User))).all()}
            keys = {k.id: k for k in (await session.scalars(select(ApiKey))).all()}
            groups = (await session.scalars(select(UserGroup))).all()
        assert [(g.name, g.ratio) for g in groups] == [("default", 1.0)]
        assert set(users) == {"Alice Smith", "bob@example.com", "alice-smith", "key_admin"}
        names = {u.username for u in users.values()}
        assert names == {"alice-smith", "alice-smith-2", "bob-example.com", "key_admin"}
        alice = users["Alice Smith"]
        assert keys["key_a1"].user_id == keys["key_a2"].user_id == alice.id
        assert keys["key_c"].user_id == users["alice-smith"].id != alice.id
        assert users["key_admin"].role == "admin" and alice.role == "user"
        for user in users.values():  # unlimited accounts; the keys keep their sub-limits
            assert (user.quota_tokens, user.quota_micros, user.status) == (None, None, "active")
            assert (user.reserved_tokens, user.reserved_micros) == (0, 0)
            assert user.password_hash is None and user.group_name == "default"
        assert (alice.used_tokens, alice.used_micros) == (67, 1_500_000)
        for key_id, _, _, qt, ut, rt, qm, um in KEYS:
            k = keys[key_id]
            assert (k.quota_tokens, k.used_tokens, k.reserved_tokens) == (qt, ut, rt)
            assert (k.quota_micros, k.used_micros) == (qm, um)
        await _spend_everything(db)
    finally:
        await db.dispose()


async def _spend_everything(db: Database) -> None:
    store = KeyStore(db, cache_ttl=0)
    reservations = Reservations(db)
    gate = Gate(reservations, LocalRateLimiter())
    ledger = UsageLedger(db)
    try:
        a1 = await store.authenticate("sk-key_a1")
        assert a1 is not None and a1.user_id is not None and a1.has_quota
        assert not a1.user_limited and a1.group == "default" and a1.group_ratio == 1.0
        # key_a1: quota 100, used 60, 5 held by the request in flight: 35 left to hold.
        rsv = await gate.admit(a1, "m", [], Hold(35, 0))
        assert rsv is not None
        try:
            await gate.admit(a1, "m", [], Hold(1, 0))
            raise AssertionError("a unit past the quota was admitted")
        except APIError as refused:
            assert refused.code == "quota_held"
        await reservations.release(["rsv_old"])  # the old hold, released as before
        await ledger.record(UsageEntry("r1", a1.id, a1.owner, "m", "p", 35, 0, reservation=rsv))
        await ledger.record(UsageEntry("r2", a1.id, a1.owner, "m", "p", 5, 0))
        try:
            await gate.admit(a1, "m", [], Hold(1, 0))
            raise AssertionError("a spent key was admitted")
        except APIError as refused:
            assert refused.code == insufficient_quota().code
        async with db.sessions() as session:
            key = await session.get(ApiKey, a1.id)
            user = await session.get(User, a1.user_id)
            assert key is not None and user is not None
            assert (key.used_tokens, key.reserved_tokens) == (100, 0)
            assert (user.used_tokens, user.reserved_tokens) == (67 + 40, 0)
        # key_a2: unlimited tokens, 0.5 of 2.0 money left.
        a2 = await store.authenticate("sk-key_a2")
        assert a2 is not None and a2.has_quota
        assert await gate.admit(a2, "m", [], Hold(10**9, 500_000)) is not None
        # key_b: unlimited, and still so.
        b = await store.authenticate("sk-key_b")
        assert b is not None and not b.has_quota
        assert await gate.admit(b, "m", [], Hold(10**12, 10**12)) is None
        # key_c: spent before the upgrade, spent after.
        c = await store.authenticate("sk-key_c")
        assert c is not None
        try:
            await gate.admit(c, "m", [], Hold(1, 0))
            raise AssertionError("a spent key was admitted")
        except APIError as refused:
            assert refused.code == "insufficient_quota"
    finally:
        await gate.aclose()
