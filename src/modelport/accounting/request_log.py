"""The latest ledger rows, one per finished request: the console's table of recent requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..storage.db import Database
from ..storage.tables import UsageRecord

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    request_id: str
    key_id: str
    model: str
    provider: str
    status: int
    error_code: str | None
    stream: bool
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_micros: int
    searches: int
    estimated: bool
    created_at: datetime


async def recent_requests(
    db: Database, *, key_id: str | None = None, limit: int = 50
) -> list[LoggedRequest]:
    """Newest first; every key's when `key_id` is None. `limit` is capped at `MAX_LIMIT`."""
    stmt = select(UsageRecord).order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
    if key_id is not None:
        stmt = stmt.where(UsageRecord.key_id == key_id)
    stmt = stmt.limit(max(1, min(limit, MAX_LIMIT)))
    async with db.sessions() as session:
        rows = (await session.scalars(stmt)).all()
    return [
        LoggedRequest(
            request_id=r.request_id,
            key_id=r.key_id,
            model=r.model,
            provider=r.provider,
            status=r.status,
            error_code=r.error_code,
            stream=r.stream,
            latency_ms=r.latency_ms,
            prompt_tokens=r.prompt_tokens,
            completion_tokens=r.completion_tokens,
            total_tokens=r.total_tokens,
            cost_micros=r.cost_micros,
            searches=r.searches,
            estimated=r.estimated,
            created_at=r.created_at,
        )
        for r in rows
    ]
