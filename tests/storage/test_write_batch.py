"""`Database.write_batch`: one transaction of many statements, in one hop on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from modelport.storage.db import Database
from modelport.storage.tables import ApiKey, UsageRecord, utcnow


def _key(key_id: str) -> dict[str, object]:
    return {
        "id": key_id,
        "key_hash": f"hash-{key_id}",
        "display": "sk-…",
        "name": key_id,
        "owner": "o",
        "created_at": utcnow(),
    }


def _usage(row_id: str, key_id: str) -> dict[str, object]:
    return {
        "id": row_id,
        "request_id": "req",
        "key_id": key_id,
        "owner": "o",
        "model": "m",
        "provider": "p",
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "total_tokens": 3,
        "latency_ms": 1,
        "status": 200,
        "stream": False,
        "created_at": utcnow(),
    }


async def _ids(db: Database) -> set[str]:
    async with db.sessions() as session:
        return set(await session.scalars(select(UsageRecord.id)))


async def test_a_batch_commits_every_statement(db: Database) -> None:
    def work(conn: Connection) -> str:
        conn.execute(insert(ApiKey), [_key("key_a")])
        conn.execute(insert(UsageRecord), [_usage(f"use_{i}", "key_a") for i in range(3)])
        return threading.current_thread().name

    ran_on = await db.write_batch(work)
    assert await _ids(db) == {"use_0", "use_1", "use_2"}  # seen by the async engine
    if db.is_sqlite:  # off the event loop, on the batch writer's own thread
        assert ran_on.startswith("modelport-db-batch")
    else:
        assert ran_on == threading.current_thread().name


async def test_a_failing_batch_writes_nothing(db: Database) -> None:
    def work(conn: Connection) -> None:
        conn.execute(insert(ApiKey), [_key("key_b")])
        conn.execute(insert(UsageRecord), [_usage("use_ok", "key_b")])
        conn.execute(insert(UsageRecord), [_usage("use_bad", "key_missing")])  # FK violation

    with pytest.raises(IntegrityError):
        await db.write_batch(work)
    assert await _ids(db) == set()
    async with db.sessions() as session:
        assert (await session.get(ApiKey, "key_b")) is None


async def test_batches_work_again_after_dispose(db: Database) -> None:
    await db.write_batch(lambda conn: conn.execute(insert(ApiKey), [_key("key_c")]))
    await db.dispose()
    await db.write_batch(
        lambda conn: conn.execute(insert(UsageRecord), [_usage("use_later", "key_c")])
    )
    assert await _ids(db) == {"use_later"}


async def test_a_postgresql_deadlock_between_two_batches_is_run_again(
    pg_database_url: str,
) -> None:
    """Two writers lock the same two keys in opposite orders (as two replicas' batches may):
    PostgreSQL aborts one with a deadlock, and that batch runs again instead of failing."""
    import asyncio

    from sqlalchemy import text, update

    from tests.storage.backends import _pg_execute

    name = pg_database_url.rsplit("/", 1)[1]
    await _pg_execute(name, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
    db = Database(pg_database_url)
    await db.migrate()
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert(ApiKey), [_key("key_a"), _key("key_b")])
        runs: list[str] = []

        def crossing(first: str, second: str) -> Callable[[Connection], None]:
            def work(conn: Connection) -> None:
                runs.append(first)
                bump = update(ApiKey).values(used_tokens=ApiKey.used_tokens + 1)
                conn.execute(bump.where(ApiKey.id == first))
                conn.execute(text("SELECT pg_sleep(0.3)"))  # the other takes its first lock
                conn.execute(bump.where(ApiKey.id == second))

            return work

        await asyncio.gather(
            db.write_batch(crossing("key_a", "key_b")),
            db.write_batch(crossing("key_b", "key_a")),
        )
        async with db.engine.connect() as conn:
            used = dict((await conn.execute(select(ApiKey.id, ApiKey.used_tokens))).all())
        assert used == {"key_a": 2, "key_b": 2}  # each batch's writes landed once
        assert len(runs) == 3  # one of them was aborted by the deadlock and run again
    finally:
        await db.dispose()
