"""Reading a running server's usage ledger straight from its database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def _rows(url: str, request_id: str) -> list[dict[str, Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM usage_records WHERE request_id = :rid"), {"rid": request_id}
            )
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


def usage_rows(database_url: str, request_id: str, wait: float = 5.0) -> list[dict[str, Any]]:
    """The ledger rows of one request, waiting briefly for the server to write them."""
    deadline = time.monotonic() + wait
    while True:
        rows = asyncio.run(_rows(database_url, request_id))
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)
