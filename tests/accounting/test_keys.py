from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event, select

from modelport.accounting.keys import (
    KeyRecord,
    KeyStore,
    display_key,
    generate_key,
    hash_key,
)
from modelport.storage.db import Database
from modelport.storage.tables import utcnow


def test_generated_keys_have_the_documented_shape() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"sk-[A-Za-z0-9_-]{48}", key)
    key = generate_key()
    assert hash_key(key) == hash_key(key) and re.fullmatch(r"[0-9a-f]{64}", hash_key(key))
    assert display_key(key) == f"{key[:7]}…{key[-4:]}"


async def test_key_record_exposes_neither_key_nor_hash(db: Database) -> None:
    raw, created = await KeyStore(db).create("ci", "alice")
    fields = set(KeyRecord.__dataclass_fields__)
    assert {"id", "display", "owner", "is_admin", "expires_at", "revoked_at"} <= fields
    assert not {f for f in fields if "hash" in f or "secret" in f or f in {"key", "raw"}}
    for record in (created, await KeyStore(db).authenticate(raw)):
        assert raw not in repr(record) and hash_key(raw) not in repr(record)


async def test_create_then_authenticate(db: Database) -> None:
    store = KeyStore(db)
    raw, record = await store.create("ci", "alice", is_admin=True)
    assert record.id.startswith("key_") and record.owner == "alice" and record.is_admin
    assert record.display == display_key(raw)
    assert record.last_used_at is None  # never used yet
    before = utcnow()
    found = await store.authenticate(raw)
    assert found is not None and found.id == record.id
    assert found.last_used_at is not None and before <= found.last_used_at <= utcnow()
    assert await store.get(record.id) == found
    assert await store.count() == 1


async def test_unknown_and_malformed_keys_fail(db: Database) -> None:
    store = KeyStore(db)
    raw, _ = await store.create("ci", "alice")
    assert await store.authenticate(generate_key()) is None
    assert await store.authenticate(raw[:-1]) is None
    assert await store.authenticate("") is None
    assert await store.authenticate("Bearer " + raw) is None
    assert await store.authenticate("sk-" + "a" * 10_000) is None


async def test_revoke_takes_effect_at_once_in_process(db: Database) -> None:
    store = KeyStore(db, cache_ttl=60)
    raw, record = await store.create("ci", "alice")
    assert await store.authenticate(raw) is not None  # now cached
    assert await store.revoke(record.id) is True
    assert await store.authenticate(raw) is None
    assert await store.revoke(record.id) is False  # already revoked
    assert await store.revoke("key_unknown") is False
    revoked = await store.get(record.id)
    assert revoked is not None and revoked.revoked_at is not None


async def test_other_process_revocation_is_seen_after_the_ttl(db: Database) -> None:
    now = [0.0]
    replica = KeyStore(db, cache_ttl=5, clock=lambda: now[0])
    admin = KeyStore(db)
    raw, record = await admin.create("ci", "alice")
    assert await replica.authenticate(raw) is not None
    assert await admin.revoke(record.id)
    now[0] = 4.9
    assert await replica.authenticate(raw) is not None  # still within the TTL: cached
    now[0] = 5.1
    assert await replica.authenticate(raw) is None


async def test_expired_keys_fail_even_when_cached(db: Database) -> None:
    store = KeyStore(db, cache_ttl=60)
    raw_past, _ = await store.create("old", "bob", expires_at=utcnow() - timedelta(seconds=1))
    assert await store.authenticate(raw_past) is None
    raw_soon, _ = await store.create("soon", "bob", expires_at=utcnow() + timedelta(seconds=60))
    cached = await store.authenticate(raw_soon)
    assert cached is not None and cached.expires_at is not None
    assert cached.is_active(cached.expires_at - timedelta(seconds=1))
    assert not cached.is_active(cached.expires_at)


async def test_list_filters_by_owner(db: Database) -> None:
    store = KeyStore(db)
    _, a1 = await store.create("one", "alice")
    _, b1 = await store.create("two", "bob")
    _, a2 = await store.create("three", "alice")
    await store.revoke(a2.id)
    assert [r.id for r in await store.list()] == [a1.id, b1.id, a2.id]
    assert [r.id for r in await store.list("alice")] == [a1.id, a2.id]
    assert await store.list("nobody") == []


async def test_add_refuses_duplicates(db: Database) -> None:
    store = KeyStore(db)
    raw = generate_key()
    assert await store.add(raw, name="n", owner="o", key_id="key_fixed") is not None
    assert await store.add(raw, name="n", owner="o") is None  # same hash
    assert await store.add(generate_key(), name="n", owner="o", key_id="key_fixed") is None
    assert await store.count() == 1


async def test_the_raw_key_is_never_stored(db: Database, db_url: str) -> None:
    store = KeyStore(db)
    raws = [(await store.create(f"k{i}", "alice", is_admin=i == 0))[0] for i in range(3)]
    for raw in raws:
        assert await store.authenticate(raw) is not None
    await store.revoke((await store.list())[1].id)

    dumped = await _dump_all_rows(db)
    assert hash_key(raws[0]) in dumped  # the dump does see the table's contents
    for raw in raws:
        assert raw not in dumped and raw[3:] not in dumped and raw[3:-4] not in dumped

    if db.is_sqlite:
        await db.dispose()  # flush the WAL into the main file too
        path = Path(db_url.split(":///", 1)[1])
        blobs = b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())
        assert hash_key(raws[0]).encode() in blobs
        for raw in raws:
            assert raw[3:-4].encode() not in blobs


async def _dump_all_rows(db: Database) -> str:
    metadata = MetaData()
    async with db.engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        parts = [repr((await conn.execute(select(t))).all()) for t in metadata.sorted_tables]
    return "\n".join(parts)


@pytest.mark.parametrize("ttl", [0.0, 5.0])
async def test_cache_setting_does_not_change_answers(db: Database, ttl: float) -> None:
    store = KeyStore(db, cache_ttl=ttl, cache_size=2)
    created = [await store.create(f"k{i}", "o") for i in range(4)]
    for _ in range(2):
        for raw, record in created:
            found = await store.authenticate(raw)
            assert found is not None and found.id == record.id


class _Statements:
    """The SQL statements `db` runs while in use."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine.sync_engine
        self.seen: list[str] = []

    def _count(self, _conn: object, _cursor: object, sql: str, *_args: object) -> None:
        self.seen.append(sql)

    def __enter__(self) -> list[str]:
        event.listen(self._engine, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._count)


async def test_authenticate_costs_one_statement_then_none_while_cached(db: Database) -> None:
    store = KeyStore(db, cache_ttl=60)
    raw, _ = await store.create("hot", "alice")
    with _Statements(db) as statements:
        assert await store.authenticate(raw) is not None
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("UPDATE")
        for _ in range(5):
            assert await store.authenticate(raw) is not None
        assert len(statements) == 1


async def test_concurrent_misses_share_one_lookup(db: Database) -> None:
    """A hot key's entry expiring under load costs one database write, not one per request."""
    raw, record = await KeyStore(db).create("hot", "alice")
    store = KeyStore(db, cache_ttl=60)
    with _Statements(db) as statements:
        found = await asyncio.gather(*(store.authenticate(raw) for _ in range(8)))
        assert [f.id if f else None for f in found] == [record.id] * 8
        assert len(statements) == 1
        assert await store.authenticate(raw) is not None and len(statements) == 1  # cached


async def test_a_waiter_that_leaves_does_not_fail_the_shared_lookup(db: Database) -> None:
    raw, record = await KeyStore(db).create("hot", "alice")
    store = KeyStore(db, cache_ttl=60)
    leaving = asyncio.create_task(store.authenticate(raw))
    staying = asyncio.create_task(store.authenticate(raw))
    await asyncio.sleep(0)
    leaving.cancel()
    found = await staying
    assert found is not None and found.id == record.id
    with pytest.raises(asyncio.CancelledError):
        await leaving


class _HeldLookups:
    """`db.autocommit`, except that a statement, once run and its connection given back,
    waits for `release` before its answer reaches the caller: a window for another write."""

    def __init__(self, db: Database) -> None:
        self._engine = db.autocommit
        self.ran = asyncio.Event()
        self.release = asyncio.Event()

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        async with self._engine.connect() as conn:
            yield conn
        self.ran.set()
        await self.release.wait()


async def test_a_change_during_a_lookup_is_not_cached_over(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up read the key just before an update landed: it answers with what it read,
    but leaves no cache entry that would hide the update for a whole TTL."""
    raw, record = await KeyStore(db).create("hot", "alice")
    store = KeyStore(db, cache_ttl=60)
    held = _HeldLookups(db)
    monkeypatch.setattr(db, "autocommit", held)
    pending = asyncio.create_task(store.authenticate(raw))
    await held.ran.wait()
    monkeypatch.undo()  # the update, and reads after it, go straight to the database
    assert await store.update(record.id, {"rpm": 7}) is not None
    held.release.set()
    found = await pending
    assert found is not None and found.rpm is None  # as read before the update
    read_again = await store.authenticate(raw)
    assert read_again is not None and read_again.rpm == 7


async def test_create_gives_up_when_the_store_keeps_refusing(db: Database) -> None:
    """A conflict that repeats is not an id collision: no endless retry loop."""
    store = KeyStore(db)
    attempts = 0

    async def refuse(raw: str, **fields: object) -> None:
        nonlocal attempts
        attempts += 1
        return None

    store.add = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="refused it three times"):
        await asyncio.wait_for(store.create("k", "o"), timeout=5)
    assert attempts == 3
