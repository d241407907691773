"""Group commit: writes queued during a transaction share the next one, each gets its own
result, and a failure reaches every write of its transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from modelport.accounting.group_write import GroupWriter
from modelport.storage.db import Database


async def test_writes_arriving_together_share_transactions(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await db.migrate()
    transactions = 0
    write_batch = db.write_batch

    async def counted(work: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return await write_batch(work)

    db.write_batch = counted  # type: ignore[method-assign]
    writer = GroupWriter(db)

    def work(i: int) -> Any:
        def run(conn: Connection) -> int:
            return int(conn.execute(text("SELECT :i * 2"), {"i": i}).scalar_one())

        return run

    try:
        results = await asyncio.gather(*(writer.run(work(i)) for i in range(50)))
        assert results == [2 * i for i in range(50)]
        # All fifty were queued before the writer's first turn: one transaction.
        assert transactions == 1

        def broken(conn: Connection) -> None:
            conn.execute(text("SELECT * FROM no_such_table"))

        outcomes = await asyncio.gather(
            writer.run(work(1)), writer.run(broken), writer.run(work(2)), return_exceptions=True
        )
        # One transaction: the good writes were rolled back with the broken one, and say so.
        assert all(isinstance(o, Exception) for o in outcomes), outcomes
        assert await writer.run(work(4)) == 8  # and the writer goes on
        await writer.aclose()
    finally:
        await db.dispose()


async def test_a_lone_write_waits_for_nobody(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await db.migrate()
    writer = GroupWriter(db)
    try:
        value = await asyncio.wait_for(
            writer.run(lambda conn: conn.execute(text("SELECT 7")).scalar_one()), 5
        )
        assert value == 7
    finally:
        await writer.aclose()
        await db.dispose()
