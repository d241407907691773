from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import StatementError

from modelport.storage.db import MIGRATIONS_DIR, SCHEMA_HEADS, Database, run_alembic_upgrade
from modelport.storage.tables import ApiKey, Base


def _schema_diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrated_schema_matches_the_orm(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []
        tables = await conn.run_sync(_tables)
    assert tables == {"alembic_version", *Base.metadata.tables}
    assert {"api_keys", "usage_records"} <= tables


async def test_migrate_twice_is_a_noop(db: Database) -> None:
    async with db.sessions() as session:
        session.add(_key("key_1"))
        await session.commit()
    before = await _versions(db)
    await db.migrate()
    async with db.engine.connect() as conn:
        keys = (await conn.execute(select(ApiKey.id))).scalars().all()
        assert await conn.run_sync(_schema_diff) == []
    assert keys == ["key_1"]
    assert before == await _versions(db) == set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


async def _versions(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows}


async def test_concurrent_migrations_do_not_collide(db_url: str) -> None:
    databases = [Database(db_url) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(d.migrate() for d in databases)), 30)
        async with databases[0].engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        for d in databases:
            await d.dispose()


async def test_timestamps_round_trip_as_aware_utc(db: Database) -> None:
    plus_eight = timezone(timedelta(hours=8))
    moment = datetime(2026, 1, 2, 11, 0, 0, 123456, tzinfo=plus_eight)
    async with db.sessions() as session:
        session.add(_key("key_tz", created_at=moment))
        await session.commit()
    async with db.sessions() as session:
        stored = (await session.scalars(select(ApiKey))).one().created_at
    assert stored == moment
    assert stored.tzinfo == UTC
    assert stored.hour == 3


async def test_naive_datetimes_are_refused(db: Database) -> None:
    async with db.sessions() as session:
        session.add(_key("key_naive", created_at=datetime(2026, 1, 1)))
        # The column type refuses it (a ValueError) before any SQL runs; SQLAlchemy reports
        # that as the statement's error.
        with pytest.raises(StatementError, match="naive datetimes are ambiguous") as refused:
            await session.commit()
    assert isinstance(refused.value.orig, ValueError)


async def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "m.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate()
        assert path.is_file()
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        assert (mode, fks) == ("wal", 1)
        assert busy is not None and busy >= 1000
    finally:
        await db.dispose()


async def test_foreign_keys_are_enforced(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from modelport.storage.tables import UsageRecord

    async with db.sessions() as session:
        session.add(
            UsageRecord(
                id="use_1",
                request_id="r",
                key_id="key_missing",
                owner="o",
                model="m",
                provider="p",
                prompt_tokens=0,
                completion_tokens=0,
                total_tokens=0,
                latency_ms=1,
                status=200,
                stream=False,
            )
        )
        with pytest.raises(IntegrityError):
            await session.commit()


async def test_fresh_sqlite_migrates_quickly(tmp_path: Path) -> None:
    # The server must answer within 3 s of starting; migrating is the bulk of its startup.
    started = time.perf_counter()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fast.db'}")
    try:
        await db.migrate()
        await db.ping()
    finally:
        await db.dispose()
    assert time.perf_counter() - started < 2.5


def _key(key_id: str, created_at: datetime | None = None) -> ApiKey:
    return ApiKey(
        id=key_id,
        key_hash=key_id.ljust(64, "0"),
        display="sk-abcd…wxyz",
        name="n",
        owner="o",
        is_admin=False,
        created_at=created_at or datetime.now(UTC),
    )


def test_schema_heads_are_the_scripts_heads() -> None:
    assert set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()) == SCHEMA_HEADS


def _shape(conn: Connection) -> dict[str, dict[str, object]]:
    """Every table as the database describes it (column order aside: `add_column` appends)."""
    inspector = inspect(conn)
    shape: dict[str, dict[str, object]] = {}
    for table in inspector.get_table_names():
        shape[table] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ),
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    str(sorted(fk.get("options", {}).items())),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (str(i["name"]), tuple(map(str, i["column_names"])), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(map(str, u["column_names"])) for u in inspector.get_unique_constraints(table)
            ),
        }
    return shape


async def _emptied(database: Database, path: Path) -> None:
    if database.is_sqlite:
        await database.dispose()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


async def test_a_new_database_gets_the_schema_the_scripts_build(db_url: str) -> None:
    """A new database skips the scripts (the ORM's schema, stamped at the heads): what it gets
    must be exactly what running every script gives."""
    database = Database(db_url)
    try:
        await database.migrate()
        async with database.engine.connect() as conn:
            created = await conn.run_sync(_shape)
        assert await _versions(database) == SCHEMA_HEADS
        await _emptied(database, Path(str(database.url.database)))
        async with database.engine.begin() as conn:
            assert await conn.run_sync(_tables) == set()
            await conn.run_sync(run_alembic_upgrade)
        async with database.engine.connect() as conn:
            scripted = await conn.run_sync(_shape)
        assert created == scripted
        assert await _versions(database) == SCHEMA_HEADS
    finally:
        await database.dispose()


_MIGRATE_AND_REPORT = """
import asyncio, sys
from modelport.storage.db import Database
async def main():
    db = Database(sys.argv[1])
    await db.migrate()
    await db.dispose()
asyncio.run(main())
print("alembic" in sys.modules)
"""


def _migrate_in_a_new_process(url: str) -> bool:
    """Migrates `url` in a fresh interpreter; whether it had to import Alembic."""
    done = subprocess.run(
        [sys.executable, "-c", _MIGRATE_AND_REPORT, url], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"


async def test_alembic_is_imported_only_to_migrate_an_older_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert not _migrate_in_a_new_process(url)  # new: created and stamped
    assert not _migrate_in_a_new_process(url)  # at the heads: nothing to do
    older_url = f"sqlite+aiosqlite:///{tmp_path / 'older.db'}"
    older = Database(older_url)  # a database from before the newer scripts
    try:
        async with older.engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0001")
        assert await _versions(older) == {"0001"}
        assert _migrate_in_a_new_process(older_url)
        assert await _versions(older) == SCHEMA_HEADS
        async with older.engine.connect() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await older.dispose()


def _upgrade_to(connection: Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
