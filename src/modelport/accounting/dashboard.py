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

from sqlalchemy import ColumnElement, and_, case, func, literal, literal_column, select, type_coerce

from ..storage.channel_tables import Channel
from ..storage.db import Database
from ..storage.tables import UsageRecord, UTCDateTime
from .request_log import LogFilter, Scope, conditions

MAX_DAYS = 366
SCAN_FROM = timedelta(days=2)  # everyone's rows over this long: read in table order (SQLite)


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
    days, _ = await summary(db, scope, bounds)
    return days


async def top_models(
    db: Database, scope: Scope, since: datetime, until: datetime, *, limit: int = 5
) -> tuple[list[ModelSums], list[ModelSums]]:
    """The models with the most requests, and those that cost the most, in the range."""
    _, models = await summary(db, scope, [since, until])
    return ranked(models, limit)


def ranked(models: list[ModelSums], limit: int = 5) -> tuple[list[ModelSums], list[ModelSums]]:
    by_requests = sorted(models, key=lambda m: (-m.requests, m.model))[:limit]
    by_cost = sorted(models, key=lambda m: (-m.cost_micros, m.model))[:limit]
    return by_requests, by_cost


async def summary(
    db: Database, scope: Scope, bounds: list[datetime]
) -> tuple[list[Sums], list[ModelSums]]:
    """Per day between consecutive `bounds`, and per model over them all, in one pass over
    the rows (grouped by day and model: a range of a million rows is read once, not three
    times)."""
    u = UsageRecord
    created = _created_at(db, scope, bounds)
    bucket = case(*[(created < _at(end), n) for n, end in enumerate(bounds[1:])], else_=-1).label(
        "bucket"
    )
    terms = [*conditions(scope, LogFilter()), created >= _at(bounds[0]), created < _at(bounds[-1])]
    columns = (u.model, u.prompt_tokens, u.completion_tokens, u.total_tokens, u.cost_micros)
    inner = select(bucket, *columns).where(and_(True, *terms)).subquery()
    c = inner.c
    stmt = select(
        c.bucket,
        c.model,
        func.count(),
        _sum(c.prompt_tokens),
        _sum(c.completion_tokens),
        _sum(c.total_tokens),
        _sum(c.cost_micros),
    ).group_by(c.bucket, c.model)
    days = [[0] * 5 for _ in bounds[1:]]
    models: dict[str, list[int]] = {}
    async with db.autocommit.connect() as conn:
        for n, model, *sums in await conn.execute(stmt):
            values = [int(v) for v in sums]
            if 0 <= n < len(days):
                days[n] = [a + b for a, b in zip(days[n], values, strict=True)]
            totals = models.setdefault(str(model), [0] * 5)
            models[str(model)] = [a + b for a, b in zip(totals, values, strict=True)]
    return (
        [Sums(*d) for d in days],
        [ModelSums(m, v[0], v[3], v[4]) for m, v in models.items()],
    )


def _created_at(db: Database, scope: Scope, bounds: list[datetime]) -> ColumnElement[Any]:
    """`created_at`, or on SQLite for everyone's rows over days, the same column hidden from
    the planner (SQLite's unary `+`): a third of a million-row table is read twice as fast in
    table order as through the time index, which costs a lookup per row (measured with
    bench/request_log_filter.py). A scoped dashboard keeps its (user_id|key_id, created_at)
    index, and PostgreSQL's planner weighs this itself."""
    column: ColumnElement[Any] = UsageRecord.created_at.expression
    if db.is_sqlite and scope == Scope() and bounds[-1] - bounds[0] >= SCAN_FROM:
        return type_coerce(
            literal_column(f"+{UsageRecord.__tablename__}.created_at"), UTCDateTime()
        )
    return column


async def channel_errors(db: Database, since: datetime) -> dict[str, ChannelErrors]:
    """Per channel, the requests since `since` and how many of them failed."""
    u = UsageRecord
    errors = _sum(case((u.status >= 400, 1), else_=0))
    # Grouped by an expression, not the column: SQLite would otherwise walk the whole channel
    # index for its order instead of the last hour's range of the time index.
    channel = (u.channel + "").label("channel")
    stmt = (
        select(channel, func.count(), errors)
        .where(u.created_at >= since, u.channel.is_not(None))
        .group_by(channel)
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
