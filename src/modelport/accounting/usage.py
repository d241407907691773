"""The usage ledger: one row per finished request, summed for quotas, billing and the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ..protocol.ids import hex_id
from ..storage.db import Database
from ..storage.tables import ApiKey, UsageRecord, utcnow
from .reservations import Freed, move_users, released

RESERVATION = "reservation"  # a row's quota hold: journalled with it, not a column


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """What one request consumed. `total_tokens=None` means prompt + completion."""

    request_id: str
    key_id: str
    owner: str
    model: str
    provider: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int | None = None
    latency_ms: int = 0
    status: int = 200
    error_code: str | None = None
    stream: bool = False
    created_at: datetime | None = None  # None: the time of recording
    cost_micros: int = 0  # see accounting.pricing
    searches: int = 0  # web searches made for the request (billed per search)
    estimated: bool = False  # token counts estimated: the upstream reported none
    reservation: str | None = None  # the quota hold this row releases (accounting/reservations)
    cached_tokens: int = 0  # of the prompt tokens, read from the vendor's cache (priced lower)
    reasoning_tokens: int = 0  # of the completion tokens, spent reasoning
    detail: str | None = None  # what a request not counted in tokens bought (images, tasks)
    channel: str | None = None  # the route that served it or failed last: `ch_…`, `model#index`
    channel_name: str | None = None
    user_id: str | None = None  # the account owning the key then
    ttft_ms: int | None = None  # time to the first token; an answer in one piece: its latency

    @property
    def total(self) -> int:
        if self.total_tokens is not None:
            return self.total_tokens
        return self.prompt_tokens + self.completion_tokens


class UsageLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entry: UsageEntry) -> str:
        """Appends the entry and adds it to its key's usage counters, in one transaction (so
        balances and the ledger never disagree); returns the row's id."""
        row = usage_row(entry)
        await write_rows(self._db, [row])
        return str(row["id"])

    def progress(self, entry: UsageEntry) -> None:
        """What a stream still under way has produced so far, kept where a crash cannot lose
        it (a no-op here: only the journalled ledger keeps it, see `ledger_buffer.py`)."""

    async def flush(self) -> None:
        """Makes every recorded entry visible to queries (a no-op: entries are written at once)."""

    async def aclose(self) -> None:
        await self.flush()

    async def totals(
        self,
        key_id: str | None = None,
        owner: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        """Sums over the matching rows; `since` is inclusive and `until` exclusive."""
        stmt = select(
            func.count(),
            func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
            func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
            func.coalesce(func.sum(UsageRecord.total_tokens), 0),
            func.coalesce(func.sum(UsageRecord.cost_micros), 0),
        )
        if key_id is not None:
            stmt = stmt.where(UsageRecord.key_id == key_id)
        if owner is not None:
            stmt = stmt.where(UsageRecord.owner == owner)
        if since is not None:
            stmt = stmt.where(UsageRecord.created_at >= since)
        if until is not None:
            stmt = stmt.where(UsageRecord.created_at < until)
        async with self._db.autocommit.connect() as conn:
            row = (await conn.execute(stmt)).one()
        requests, prompt, completion, total, cost = (int(v) for v in row)
        return {
            "requests": requests,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": total,
            "cost_micros": cost,
        }

    async def recent(self, key_id: str, limit: int = 50) -> list[UsageEntry]:
        """The key's latest entries, newest first."""
        stmt = (
            select(UsageRecord)
            .where(UsageRecord.key_id == key_id)
            .order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
            .limit(limit)
        )
        async with self._db.sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [entry_of(r) for r in rows]


def usage_row(entry: UsageEntry) -> dict[str, Any]:
    """The entry as the values of a new `usage_records` row."""
    return {
        "id": "use_" + hex_id(12),
        "request_id": entry.request_id,
        "key_id": entry.key_id,
        "owner": entry.owner,
        "model": entry.model,
        "provider": entry.provider,
        "prompt_tokens": entry.prompt_tokens,
        "completion_tokens": entry.completion_tokens,
        "total_tokens": entry.total,
        "latency_ms": entry.latency_ms,
        "status": entry.status,
        "error_code": entry.error_code,
        "stream": entry.stream,
        "created_at": entry.created_at or utcnow(),
        "cost_micros": entry.cost_micros,
        "searches": entry.searches,
        "estimated": entry.estimated,
        "cached_tokens": entry.cached_tokens,
        "reasoning_tokens": entry.reasoning_tokens,
        "detail": entry.detail,
        "channel": entry.channel,
        "channel_name": entry.channel_name,
        "user_id": entry.user_id,
        "ttft_ms": entry.ttft_ms,
        RESERVATION: entry.reservation,
    }


async def write_rows(db: Database, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows and adds them to their keys' usage counters, in one transaction."""
    await db.write_batch(lambda conn: _write_rows(conn, rows))


def write_rows_in(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """`write_rows` in the caller's transaction, for a write that must land with other
    statements or not at all (a refund and the flag that says it was made)."""
    _write_rows(conn, rows)


def _write_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The rows, their keys' and accounts' `used_*` counters, and the release of the quota
    holds the rows settle, in the caller's transaction: a request's spending moves from held
    to used at once."""
    debits: dict[str, list[int]] = {}
    holds: list[str] = []
    values = []
    for row in rows:
        debit = debits.setdefault(row["key_id"], [0, 0])
        debit[0] += row["total_tokens"]
        debit[1] += row["cost_micros"]
        fields = dict(row)
        hold = fields.pop(RESERVATION, None)
        if hold:
            holds.append(hold)
        values.append(fields)
    conn.execute(insert(UsageRecord), values)
    freed = released(conn, holds) if holds else Freed({}, {})
    for key_id in sorted(debits.keys() | freed.keys.keys()):  # one lock order everywhere
        tokens, micros = debits.get(key_id, (0, 0))
        held_tokens, held_micros = freed.keys.get(key_id, (0, 0))
        if tokens or micros or held_tokens or held_micros:
            conn.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .values(
                    used_tokens=ApiKey.used_tokens + tokens,
                    used_micros=ApiKey.used_micros + micros,
                    reserved_tokens=ApiKey.reserved_tokens + held_tokens,
                    reserved_micros=ApiKey.reserved_micros + held_micros,
                )
            )
    move_users(conn, freed.users, _user_debits(conn, debits))


def _user_debits(conn: Connection, debits: dict[str, list[int]]) -> dict[str, tuple[int, int]]:
    """The keys' spending summed per owning account (keys without one spend from no account)."""
    owners = conn.execute(
        select(ApiKey.id, ApiKey.user_id).where(
            ApiKey.id.in_(list(debits)), ApiKey.user_id.is_not(None)
        )
    ).all()
    sums: dict[str, tuple[int, int]] = {}
    for key_id, user_id in owners:
        assert user_id is not None  # selected so
        tokens, micros = sums.get(user_id, (0, 0))
        sums[user_id] = (tokens + debits[key_id][0], micros + debits[key_id][1])
    return sums


def entry_of(row: UsageRecord) -> UsageEntry:
    return UsageEntry(
        request_id=row.request_id,
        key_id=row.key_id,
        owner=row.owner,
        model=row.model,
        provider=row.provider,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
        latency_ms=row.latency_ms,
        status=row.status,
        error_code=row.error_code,
        stream=row.stream,
        created_at=row.created_at,
        cost_micros=row.cost_micros,
        searches=row.searches,
        estimated=row.estimated,
        cached_tokens=row.cached_tokens,
        reasoning_tokens=row.reasoning_tokens,
        detail=row.detail,
        channel=row.channel,
        channel_name=row.channel_name,
        user_id=row.user_id,
        ttft_ms=row.ttft_ms,
    )


class NullLedger(UsageLedger):
    """Records nothing: the ledger of `accounting: false`, for measuring accounting's cost."""

    async def record(self, entry: UsageEntry) -> str:
        return ""
