"""Usage queries: the ledger summed by key, model and/or day, with exact integer totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, select

from ..storage.db import Database
from ..storage.tables import UsageRecord, UTCDateTime
from .dashboard import day_bounds

GroupBy = Literal["key", "model", "day"]
GROUPS: tuple[GroupBy, ...] = ("key", "model", "day")


@dataclass(frozen=True, slots=True)
class UsageFilter:
    key_id: str | None = None
    owner: str | None = None
    model: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class UsageRow:
    group: dict[str, str]
    requests: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_micros: int
    cached_tokens: int = 0  # of the prompt tokens, read from the vendor's cache
    reasoning_tokens: int = 0  # of the completion tokens, spent on reasoning


@dataclass(frozen=True, slots=True)
class UsageReport:
    rows: list[UsageRow] = field(default_factory=list)
    totals: UsageRow = field(default_factory=lambda: UsageRow({}, 0, 0, 0, 0, 0))


def _day(db: Database) -> ColumnElement[Any]:
    """The UTC calendar day of a row, as YYYY-MM-DD, on either store."""
    column = UsageRecord.created_at
    if db.is_sqlite:
        return func.strftime("%Y-%m-%d", column)  # stored as naive UTC text
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")


def _sums() -> list[ColumnElement[Any]]:
    return [
        func.count(),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        func.coalesce(func.sum(UsageRecord.total_tokens), 0),
        func.coalesce(func.sum(UsageRecord.cost_micros), 0),
        func.coalesce(func.sum(UsageRecord.cached_tokens), 0),
        func.coalesce(func.sum(UsageRecord.reasoning_tokens), 0),
    ]


def _conditions(where: UsageFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.key_id is not None:
        conditions.append(UsageRecord.key_id == where.key_id)
    if where.owner is not None:
        conditions.append(UsageRecord.owner == where.owner)
    if where.model is not None:
        conditions.append(UsageRecord.model == where.model)
    if where.since is not None:
        conditions.append(UsageRecord.created_at >= where.since)
    if where.until is not None:
        conditions.append(UsageRecord.created_at < where.until)
    return conditions


def _row(group: dict[str, str], values: Any) -> UsageRow:
    requests, prompt, completion, total, cost, cached, reasoning = (int(v) for v in values)
    return UsageRow(group, requests, prompt, completion, total, cost, cached, reasoning)


MAX_LOCAL_DAYS = 400  # a CASE branch per day: bounded


def _local_day(since: datetime, until: datetime | None, zone: ZoneInfo) -> ColumnElement[Any]:
    """The viewer's calendar day of a row (YYYY-MM-DD), DST-correct on either store: a CASE
    over the UTC instants of each local midnight from `since` to `until` (or now)."""
    first = since.astimezone(zone).date()
    last = (until or datetime.now(UTC)).astimezone(zone).date()
    days = min(max((last - first).days + 1, 1), MAX_LOCAL_DAYS)
    ends = day_bounds(zone, first, days)[1:]
    branches = [
        (
            UsageRecord.created_at < literal(end, UTCDateTime()),
            (first + timedelta(days=n)).isoformat(),
        )
        for n, end in enumerate(ends)
    ]
    return case(*branches, else_=(first + timedelta(days=days)).isoformat())


async def usage_report(
    db: Database, where: UsageFilter, group_by: list[GroupBy], zone: ZoneInfo | None = None
) -> UsageReport:
    """Rows per group (in key, model, day order) and the totals over every matching row; days
    are UTC days, or `zone`'s from `where.since` on."""
    columns: dict[GroupBy, ColumnElement[Any]] = {
        "key": UsageRecord.key_id.expression,
        "model": UsageRecord.model.expression,
        "day": _day(db)
        if zone is None or where.since is None
        else _local_day(where.since, where.until, zone),
    }
    chosen = [g for g in GROUPS if g in group_by]
    keys = [columns[g].label(g) for g in chosen]
    conditions = _conditions(where)
    grouped = select(*keys, *_sums()).where(*conditions)
    if keys:
        grouped = grouped.group_by(*keys).order_by(*keys)
    total = select(*_sums()).where(*conditions)
    async with db.autocommit.connect() as conn:
        rows = (await conn.execute(grouped)).all() if keys else []
        totals = (await conn.execute(total)).one()
    n = len(chosen)
    return UsageReport(
        rows=[_row({g: str(r[i]) for i, g in enumerate(chosen)}, r[n:]) for r in rows],
        totals=_row({}, totals),
    )
