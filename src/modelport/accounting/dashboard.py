"""The dashboard's sums from the ledger: requests, tokens and cost per day of the viewer's
time zone, the top models, and each channel's recent error rate.

Days are the viewer's: each day's bounds are its local midnights turned into UTC instants
(zoneinfo, so a DST day has 23 or 25 hours and a zone off UTC by a half hour works), and
rows are put in days by a CASE on those bounds. That is the same SQL on SQLite, which has
no time zones, and on PostgreSQL, and it reads one range of the created_at index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from ..storage.channel_tables import Channel
from ..storage.db import Database
from ..storage.tables import UsageRecord, UTCDateTime
from .request_log import LogFilter, Scope, conditions

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Sums:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_micros: int = 0


@dataclass(frozen=True, slots=True)
class DaySums:
    day: date
    sums: Sums


@dataclass(frozen=True, slots=True)
class ModelSums:
    model: str
    requests: int
    total_tokens: int
    cost_micros: int


@dataclass(frozen=True, slots=True)
class ChannelErrors:
    requests: int
    errors: int  # status >= 400


@dataclass(frozen=True, slots=True)
class LastTest:
    name: str
    at: datetime | None
    ms: int | None
    error: str | None


def day_bounds(zone: ZoneInfo, first: date, days: int) -> list[datetime]:
    """The UTC instants of local midnight of `first` … `first + days` (days + 1 bounds)."""
    return [
        datetime.combine(first + timedelta(days=n), time(), tzinfo=zone).astimezone(UTC)
        for n in range(days + 1)
    ]


def _sum(column: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), 0)


def _at(moment: datetime) -> ColumnElement[Any]:
    return literal(moment, UTCDateTime())


async def daily(db: Database, scope: Scope, bounds: list[datetime]) -> list[Sums]:
    """Sums per day between consecutive `bounds`, one per day (zeros for quiet days)."""
    u = UsageRecord
    bucket = case(
        *[(u.created_at < _at(end), n) for n, end in enumerate(bounds[1:])], else_=-1
    ).label("bucket")
    where = LogFilter(since=bounds[0], until=bounds[-1])
    inner = (
        select(bucket, u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cost_micros)
        .where(and_(True, *conditions(scope, where)))
        .subquery()
    )
    stmt = select(
        inner.c.bucket,
        func.count(),
        _sum(inner.c.prompt_tokens),
        _sum(inner.c.completion_tokens),
        _sum(inner.c.total_tokens),
        _sum(inner.c.cost_micros),
    ).group_by(inner.c.bucket)
    out = [Sums() for _ in bounds[1:]]
    async with db.autocommit.connect() as conn:
        for n, *sums in await conn.execute(stmt):
            if 0 <= n < len(out):
                out[n] = Sums(*(int(v) for v in sums))
    return out


async def top_models(
    db: Database, scope: Scope, since: datetime, until: datetime, *, limit: int = 5
) -> tuple[list[ModelSums], list[ModelSums]]:
    """The models with the most requests, and those that cost the most, in the range."""
    u = UsageRecord
    where = and_(True, *conditions(scope, LogFilter(since=since, until=until)))
    requests = func.count().label("requests")
    cost = _sum(u.cost_micros).label("cost")
    base = select(u.model, requests, _sum(u.total_tokens), cost).where(where).group_by(u.model)
    async with db.autocommit.connect() as conn:
        by_requests = await conn.execute(base.order_by(requests.desc(), u.model).limit(limit))
        first = [ModelSums(m, int(r), int(t), int(c)) for m, r, t, c in by_requests]
        by_cost = await conn.execute(base.order_by(cost.desc(), u.model).limit(limit))
        second = [ModelSums(m, int(r), int(t), int(c)) for m, r, t, c in by_cost]
    return first, second


async def channel_errors(db: Database, since: datetime) -> dict[str, ChannelErrors]:
    """Per channel, the requests since `since` and how many of them failed."""
    u = UsageRecord
    errors = _sum(case((u.status >= 400, 1), else_=0))
    stmt = (
        select(u.channel, func.count(), errors)
        .where(u.created_at >= since, u.channel.is_not(None))
        .group_by(u.channel)
    )
    async with db.autocommit.connect() as conn:
        rows = await conn.execute(stmt)
        return {str(c): ChannelErrors(int(n), int(e)) for c, n, e in rows}


async def last_tests(db: Database) -> dict[str, LastTest]:
    """The runtime channels' last test requests (settings channels have none)."""
    stmt = select(
        Channel.id,
        Channel.name,
        Channel.last_test_at,
        Channel.last_test_ms,
        Channel.last_test_error,
    )
    async with db.autocommit.connect() as conn:
        rows = await conn.execute(stmt)
        return {i: LastTest(n, at, ms, err) for i, n, at, ms, err in rows}
