"""The request log at a million rows: each filter's first page, a deep keyset page, a filtered
count and a 10,000-row CSV, on SQLite and on PostgreSQL, with the log's indexes (migration
0013) and again with them dropped (the baseline, as a ratio).

The ledger is filled in bulk (SQLite executemany, PostgreSQL COPY) after the migration, with
a realistic spread: 90 days (more by day than by night), 1,000 accounts each with one key
(a few heavy ones: a Zipf-like draw), 50 models and 20 channels (also skewed), 3% errors,
30% streams. The queries are the app's own (`accounting/request_log.py`), timed as the median
of 5 runs after one warm-up. PostgreSQL is ANALYZEd after the load (autovacuum would); SQLite
is not (the app never runs ANALYZE there), so its planner works from the indexes alone.

Run: `.venv/bin/python bench/request_log_filter.py [--rows 1000000] [--store sqlite]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import text

from modelport.accounting.dashboard import channel_errors, day_bounds, ranked, summary
from modelport.accounting.request_log import (
    Cursor,
    LogFilter,
    Scope,
    count_rows,
    log_page,
    log_rows,
)
from modelport.accounting.request_log_csv import csv_chunks
from modelport.storage.db import Database

NOW = datetime(2026, 12, 8, tzinfo=UTC)
DAYS, USERS, MODELS, CHANNELS = 90, 1000, 50, 20
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LOG_INDEXES = (
    "ix_usage_records_created_at_id",
    "ix_usage_records_user_id_created_at",
    "ix_usage_records_model_created_at",
    "ix_usage_records_channel_created_at",
    "ix_usage_records_status_created_at",
)
COLUMNS = (
    "id", "request_id", "key_id", "owner", "model", "provider", "prompt_tokens",
    "completion_tokens", "total_tokens", "latency_ms", "status", "error_code", "stream",
    "created_at", "cost_micros", "searches", "estimated", "cached_tokens", "reasoning_tokens",
    "detail", "channel", "channel_name", "user_id", "ttft_ms",
)  # fmt: skip
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2]
ERRORS = [(429, "rate_limited"), (500, "upstream_error"), (502, "upstream_error"), (499, None)]


def skewed(n: int, power: float) -> list[float]:
    """Cumulative Zipf-like weights: a few items get most of the rows."""
    total, out = 0.0, []
    for i in range(n):
        total += 1 / (i + 1) ** power
        out.append(total)
    return out


def make_rows(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    users, models, channels = skewed(USERS, 0.8), skewed(MODELS, 1.0), skewed(CHANNELS, 0.7)
    hours = list(range(24))
    start = NOW - timedelta(days=DAYS)
    rows = []
    for n in range(count):
        user = rng.choices(range(USERS), cum_weights=users)[0]
        model = rng.choices(range(MODELS), cum_weights=models)[0]
        channel = rng.choices(range(CHANNELS), cum_weights=channels)[0]
        moment = start + timedelta(
            days=rng.randrange(DAYS),
            hours=rng.choices(hours, weights=HOURS)[0],
            seconds=rng.random() * 3600,
        )
        failed = rng.random() < 0.03
        status, code = rng.choice(ERRORS) if failed else (200, None)
        stream = rng.random() < 0.3
        prompt = rng.randrange(20, 4000)
        completion = 0 if failed else rng.randrange(1, 1500)
        latency = rng.randrange(200, 30000)
        rows.append(
            (
                f"use_{rng.getrandbits(96):024x}",
                f"req_{n}",
                f"key_{user:04d}",
                f"owner-{user}",
                f"model-{model:02d}",
                "openai_compat",
                prompt,
                completion,
                prompt + completion,
                latency,
                status,
                code,
                stream,
                moment,
                prompt * 2 + completion * 6,
                0,
                False,
                0,
                0,
                None,
                f"ch_{channel:02d}",
                f"渠道 {channel}",
                f"usr_{user:04d}",
                None if failed else (rng.randrange(50, 2000) if stream else latency),
            )
        )
    return rows


def owners() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    users = [(f"usr_{u:04d}", f"user{u}", NOW) for u in range(USERS)]
    keys = [(f"key_{u:04d}", f"{u:060x}", "sk-…", f"key {u}", f"owner-{u}", NOW, f"usr_{u:04d}")
            for u in range(USERS)]  # fmt: skip
    return users, keys


def fill_sqlite(path: Path, total: int, batch: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a bench load, not a ledger
    users, keys = owners()

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    conn.executemany(
        "INSERT INTO users (id, username, role, group_name, status, created_at) "
        "VALUES (?, ?, 'user', 'default', 'active', ?)",
        [(u, n, stamp(at)) for u, n, at in users],
    )
    conn.executemany(
        "INSERT INTO api_keys (id, key_hash, display, name, owner, is_admin, created_at, user_id)"
        " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        [(*k[:5], stamp(k[5]), k[6]) for k in keys],
    )
    marks = ", ".join("?" * len(COLUMNS))
    insert = f"INSERT INTO usage_records ({', '.join(COLUMNS)}) VALUES ({marks})"
    at = COLUMNS.index("created_at")
    rng = random.Random(18)
    for done in range(0, total, batch):
        rows = make_rows(min(batch, total - done), rng)
        conn.executemany(insert, [(*r[:at], stamp(r[at]), *r[at + 1 :]) for r in rows])
        conn.commit()
    conn.close()


async def fill_postgres(dsn: str, total: int, batch: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        users, keys = owners()
        await conn.copy_records_to_table(
            "users",
            records=[(u, n, "user", "default", "active", at) for u, n, at in users],
            columns=["id", "username", "role", "group_name", "status", "created_at"],
        )
        await conn.copy_records_to_table(
            "api_keys",
            records=[(*k[:5], False, k[5], k[6]) for k in keys],
            columns=["id", "key_hash", "display", "name", "owner", "is_admin", "created_at",
                     "user_id"],
        )  # fmt: skip
        rng = random.Random(18)
        for done in range(0, total, batch):
            rows = make_rows(min(batch, total - done), rng)
            await conn.copy_records_to_table("usage_records", records=rows, columns=COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def timed(work: Callable[[], Awaitable[Any]], runs: int = 5) -> float:
    """Median milliseconds of `runs` after a warm-up (one run when a run takes seconds)."""
    started = time.perf_counter()
    await work()
    if time.perf_counter() - started > 2:
        runs = 1
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def deep_cursor(db: Database, offset: int) -> Cursor:
    stmt = text(
        "SELECT created_at, id FROM usage_records ORDER BY created_at DESC, id DESC "
        "LIMIT 1 OFFSET :offset"
    )
    async with db.autocommit.connect() as conn:
        moment, row_id = (await conn.execute(stmt, {"offset": offset})).one()
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return Cursor(moment if moment.tzinfo else moment.replace(tzinfo=UTC), row_id)


async def csv_bytes(db: Database, where: LogFilter, rows: int) -> int:
    size = 0
    async for chunk in csv_chunks(log_rows(db, Scope(), where, cap=rows), "USD"):
        size += len(chunk)
    return size


async def board(db: Database, scope: Scope, days: int) -> None:
    """The dashboard's sums: per day in Shanghai's days, and the top models."""
    bounds = day_bounds(ZoneInfo("Asia/Shanghai"), (NOW - timedelta(days=days)).date(), days)
    _, models = await summary(db, scope, bounds)
    ranked(models)


def queries(cursor: Cursor) -> list[tuple[str, Callable[[Database], Awaitable[Any]]]]:
    week, month = NOW - timedelta(days=7), NOW - timedelta(days=30)
    day = NOW - timedelta(days=1)

    month_of_20 = LogFilter(model="model-20", since=month)

    def page(where: LogFilter, after: Cursor | None = None) -> Callable[[Database], Any]:
        return lambda db: log_page(db, Scope(), where, after, 50)

    return [
        ("first page, no filter", page(LogFilter())),
        ("user (heaviest)", page(LogFilter(user_id="usr_0000"))),
        ("user (typical, #300)", page(LogFilter(user_id="usr_0300"))),
        ("own log of a key (#300)", lambda db: log_page(db, Scope(key_id="key_0300"), LogFilter())),
        ("model (#20)", page(LogFilter(model="model-20"))),
        ("channel (#10)", page(LogFilter(channel="ch_10"))),
        ("status=error", page(LogFilter(status="error"))),
        ("status=502", page(LogFilter(status=502))),
        ("stream=true", page(LogFilter(stream=True))),
        ("user #300 + last 7 days", page(LogFilter(user_id="usr_0300", since=week))),
        (
            "model #5 + channel #3 + 30 days",
            page(LogFilter(model="model-05", channel="ch_03", since=month)),
        ),
        ("errors of the last day", page(LogFilter(status="error", since=day))),
        ("deep page (500,000 rows in)", page(LogFilter(), cursor)),
        ("count: model #20, 30 days", lambda db: count_rows(db, Scope(), month_of_20)),
        ("CSV: 10,000 rows", lambda db: csv_bytes(db, LogFilter(), 10_000)),
        ("dashboard: 7 days, everyone", lambda db: board(db, Scope(), 7)),
        ("dashboard: 30 days, everyone", lambda db: board(db, Scope(), 30)),
        ("dashboard: 30 days, user #300", lambda db: board(db, Scope(user_id="usr_0300"), 30)),
        ("channel error rates, last hour", lambda db: channel_errors(db, NOW - timedelta(hours=1))),
    ]  # fmt: skip


async def measure(db: Database, cursor: Cursor) -> dict[str, float]:
    return {name: await timed(lambda q=query: q(db)) for name, query in queries(cursor)}


async def drop_log_indexes(db: Database) -> None:
    async with db.autocommit.connect() as conn:
        for name in LOG_INDEXES:
            await conn.execute(text(f"DROP INDEX {name}"))
        if not db.is_sqlite:
            await conn.execute(text("ANALYZE usage_records"))


async def run_store(store: str, rows: int, batch: int) -> tuple[dict[str, float], dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        name = ""
        if store == "sqlite":
            path = Path(tmp) / "modelport.db"
            url = f"sqlite+aiosqlite:///{path}"
        else:
            name = f"modelport_bench_log_{random.getrandbits(32):08x}"
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        try:
            db = Database(url)
            await db.migrate()
            started = time.perf_counter()
            if store == "sqlite":
                await db.dispose()
                await asyncio.to_thread(fill_sqlite, path, rows, batch)
                db = Database(url)
            else:
                await fill_postgres(f"postgresql://postgres@127.0.0.1:5432/{name}", rows, batch)
            print(f"{store}: {rows:,} rows loaded in {time.perf_counter() - started:.0f}s",
                  flush=True)  # fmt: skip
            cursor = await deep_cursor(db, min(500_000, rows // 2))
            indexed = await measure(db, cursor)
            await drop_log_indexes(db)
            baseline = await measure(db, cursor)
            await db.dispose()
            return indexed, baseline
        finally:
            if name:
                admin = await asyncpg.connect(PG_ADMIN)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


def report(store: str, indexed: dict[str, float], baseline: dict[str, float]) -> None:
    print(f"\n{store}: median ms of 5 runs (baseline: the 0013 indexes dropped)")
    print(f"{'query':<36} {'indexed':>9} {'baseline':>10} {'speed-up':>9}")
    for query, ms in indexed.items():
        base = baseline[query]
        print(f"{query:<36} {ms:>9.1f} {base:>10.1f} {base / ms:>8.1f}x")
    print(f"{'slowest':<36} {max(indexed.values()):>9.1f} {max(baseline.values()):>10.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--store", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for store in args.store or ["sqlite", "postgresql"]:
        indexed, baseline = await run_store(store, args.rows, args.batch)
        report(store, indexed, baseline)


if __name__ == "__main__":
    asyncio.run(main())
