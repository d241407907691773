"""The latest ledger rows, one per finished request: the console's table of recent requests."""

from __future__ import annotations

from sqlalchemy import select

from ..storage.db import Database
from ..storage.tables import UsageRecord
from .usage import UsageEntry, entry_of

MAX_LIMIT = 500


async def recent_requests(
    db: Database, *, key_id: str | None = None, limit: int = 50
) -> list[UsageEntry]:
    """Newest first; every key's when `key_id` is None. `limit` is capped at `MAX_LIMIT`."""
    stmt = select(UsageRecord).order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
    if key_id is not None:
        stmt = stmt.where(UsageRecord.key_id == key_id)
    stmt = stmt.limit(max(1, min(limit, MAX_LIMIT)))
    async with db.sessions() as session:
        rows = (await session.scalars(stmt)).all()
    return [entry_of(r) for r in rows]
