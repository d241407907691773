"""Database fixtures shared by tests/storage and tests/accounting.

Every database test runs twice: on a fresh SQLite file and on a real PostgreSQL server. The
PostgreSQL database is created once per session under a unique name and dropped at the end;
each test starts from an empty `public` schema. No PostgreSQL means failures, not skips.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from modelport.storage.db import Database

PG_SERVER = os.environ.get("MODELPORT_TEST_PG", "postgres://postgres@127.0.0.1:5432")


async def _pg_execute(database: str, *statements: str) -> None:
    conn = await asyncpg.connect(f"{PG_SERVER}/{database}", timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    name = f"modelport_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute("postgres", f'CREATE DATABASE "{name}"'))
    try:
        host = PG_SERVER.split("://", 1)[1]
        yield f"postgresql+asyncpg://{host}/{name}"
    finally:
        asyncio.run(_pg_execute("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (not yet migrated)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'modelport.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    name = url.rsplit("/", 1)[1]
    asyncio.run(_pg_execute(name, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public"))
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database."""
    database = Database(db_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()
