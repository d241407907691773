"""The request log: ledger rows filtered and paged newest first, one per finished request.

Paging is by keyset on (created_at, id), the order of every log index (migration 0013), so a
deep page costs what the first one does; the cursor is opaque to clients. A viewer's scope
(their key, or every key of their account) is a condition of its own, ANDed with the filters
they pass: a user naming another user's key gets nothing, never that key's rows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, tuple_

from ..storage.db import Database
from ..storage.tables import ApiKey, UsageRecord, UTCDateTime
from ..storage.user_tables import User

MAX_LIMIT = 500
StatusFilter = int | Literal["ok", "error"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a viewer may see: one key's, one account's, or (both None) everyone's."""

    key_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class LogFilter:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    user_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    channel: str | None = None
    status: StatusFilter | None = None  # an exact code, or `ok` (< 400) / `error` (>= 400)
    stream: bool | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the last row's time and id."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor a page's `next` gave; ValueError for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, row_id = raw.partition("|")
            created_at = datetime.fromisoformat(moment)
            if not row_id or created_at.tzinfo is None:
                raise ValueError("no id or no time zone")
            created_at = created_at.astimezone(UTC)  # a forged one may fall off the calendar
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
            raise ValueError("not a cursor of this log") from exc
        return cls(created_at, row_id)


@dataclass(frozen=True, slots=True)
class LogRow:
    id: str
    created_at: datetime
    request_id: str
    user_id: str | None
    username: str | None
    key_id: str
    key_name: str | None
    model: str
    provider: str
    channel: str | None
    channel_name: str | None
    status: int
    error_code: str | None
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_micros: int
    latency_ms: int
    ttft_ms: int | None
    searches: int
    estimated: bool
    detail: str | None


@dataclass(frozen=True, slots=True)
class LogPage:
    rows: list[LogRow]
    next: Cursor | None  # None on the last page

    @property
    def has_more(self) -> bool:
        return self.next is not None


def parse_status(text: str) -> StatusFilter:
    """`ok`, `error` or an HTTP status code; ValueError otherwise."""
    lowered = text.strip().lower()
    if lowered in ("ok", "error"):
        return "ok" if lowered == "ok" else "error"
    code = int(lowered)
    if not 100 <= code <= 599:
        raise ValueError("not an HTTP status")
    return code


def conditions(scope: Scope, where: LogFilter) -> list[ColumnElement[bool]]:
    """The WHERE terms of a scope and a filter (shared with the dashboard's sums)."""
    u = UsageRecord
    terms: list[ColumnElement[bool]] = []
    for column, value in (
        (u.key_id, scope.key_id),
        (u.user_id, scope.user_id),
        (u.key_id, where.key_id),
        (u.user_id, where.user_id),
        (u.model, where.model),
        (u.channel, where.channel),
    ):
        if value is not None:
            terms.append(column == value)
    if where.since is not None:
        terms.append(u.created_at >= where.since)
    if where.until is not None:
        terms.append(u.created_at < where.until)
    if where.status == "ok":
        terms.append(u.status < 400)
    elif where.status == "error":
        terms.append(u.status >= 400)
    elif where.status is not None:
        terms.append(u.status == where.status)
    if where.stream is not None:
        terms.append(u.stream.is_(where.stream))
    return terms


_COLUMNS = (
    UsageRecord.id,
    UsageRecord.created_at,
    UsageRecord.request_id,
    UsageRecord.user_id,
    User.username,
    UsageRecord.key_id,
    ApiKey.name.label("key_name"),
    UsageRecord.model,
    UsageRecord.provider,
    UsageRecord.channel,
    UsageRecord.channel_name,
    UsageRecord.status,
    UsageRecord.error_code,
    UsageRecord.stream,
    UsageRecord.prompt_tokens,
    UsageRecord.completion_tokens,
    UsageRecord.total_tokens,
    UsageRecord.cached_tokens,
    UsageRecord.reasoning_tokens,
    UsageRecord.cost_micros,
    UsageRecord.latency_ms,
    UsageRecord.ttft_ms,
    UsageRecord.searches,
    UsageRecord.estimated,
    UsageRecord.detail,
)


def page_query(
    scope: Scope, where: LogFilter, after: Cursor | None, limit: int
) -> Select[*tuple[Any, ...]]:
    """Newest first from `after` on, with the key's name and the account's username."""
    terms = conditions(scope, where)
    if after is not None:
        terms.append(_before(after))
    return (
        select(*_COLUMNS)
        .select_from(UsageRecord)
        .outerjoin(ApiKey, ApiKey.id == UsageRecord.key_id)
        .outerjoin(User, User.id == UsageRecord.user_id)
        .where(and_(True, *terms))
        .order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
        .limit(limit)
    )


def _before(cursor: Cursor) -> ColumnElement[bool]:
    """Rows strictly after the cursor in newest-first order: a row-value comparison, which
    both PostgreSQL and SQLite read as one range of the (…, created_at, id) indexes."""
    moment = literal(cursor.created_at, UTCDateTime())
    return tuple_(UsageRecord.created_at, UsageRecord.id) < tuple_(moment, literal(cursor.id))


async def log_page(
    db: Database, scope: Scope, where: LogFilter, after: Cursor | None = None, limit: int = 50
) -> LogPage:
    """One page; `limit` is capped at `MAX_LIMIT`."""
    limit = max(1, min(limit, MAX_LIMIT))
    async with db.autocommit.connect() as conn:
        result = await conn.execute(page_query(scope, where, after, limit + 1))
        rows = [LogRow(**row._mapping) for row in result]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return LogPage(rows, Cursor(last.created_at, last.id) if last is not None else None)


async def log_rows(
    db: Database, scope: Scope, where: LogFilter, *, batch: int = 1000, cap: int | None = None
) -> AsyncIterator[LogRow]:
    """Every matching row, newest first, read a page at a time (the CSV export): no query
    holds a connection while the client reads."""
    after: Cursor | None = None
    sent = 0
    while cap is None or sent < cap:
        size = batch if cap is None else min(batch, cap - sent)
        async with db.autocommit.connect() as conn:
            result = await conn.execute(page_query(scope, where, after, size))
            rows = [LogRow(**row._mapping) for row in result]
        for row in rows:
            yield row
        sent += len(rows)
        if len(rows) < size:
            return
        after = Cursor(rows[-1].created_at, rows[-1].id)


async def count_rows(db: Database, scope: Scope, where: LogFilter) -> int:
    """How many rows match (the bench's filtered count; the dashboard's sums use the same
    conditions)."""
    stmt = (
        select(func.count()).select_from(UsageRecord).where(and_(True, *conditions(scope, where)))
    )
    async with db.autocommit.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())
