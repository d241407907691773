"""The request log's filters, scopes and keyset pages, and the dashboard's days, on SQLite and
PostgreSQL (the `db` fixture runs each test on both)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from modelport.accounting.dashboard import channel_errors, daily, day_bounds, top_models
from modelport.accounting.request_log import (
    Cursor,
    LogFilter,
    Scope,
    count_rows,
    log_page,
    log_rows,
    parse_status,
)
from modelport.accounting.usage import UsageEntry, usage_row, write_rows
from modelport.storage.db import Database
from modelport.storage.tables import ApiKey
from modelport.storage.user_tables import User

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _keys(db: Database) -> None:
    async with db.autocommit.connect() as conn:
        await conn.execute(
            insert(User),
            [{"id": "usr_a", "username": "alice", "created_at": T0}],
        )
        await conn.execute(
            insert(ApiKey),
            [
                {
                    "id": key_id,
                    "key_hash": key_id.ljust(64, "0"),
                    "display": "sk-…",
                    "name": name,
                    "owner": "o",
                    "created_at": T0,
                    "user_id": user_id,
                }
                for key_id, name, user_id in (
                    ("key_a1", "密钥一", "usr_a"),
                    ("key_a2", "second", "usr_a"),
                    ("key_b", "bob's", None),
                )
            ],
        )


def _entry(n: int, **fields: object) -> UsageEntry:
    values: dict[str, object] = {
        "request_id": f"req-{n}",
        "key_id": "key_a1",
        "owner": "o",
        "model": "m1",
        "provider": "openai_compat",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "latency_ms": 100,
        "cost_micros": 1000,
        "created_at": T0 + timedelta(minutes=n),
        "channel": "m1#0",
        "user_id": "usr_a",
        "ttft_ms": 40,
    }
    values.update(fields)
    return UsageEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
async def logged(db: Database) -> Database:
    await _keys(db)
    entries = [
        _entry(0),
        _entry(1, model="m2", channel="ch_abc", channel_name="中转 A", cost_micros=9000),
        _entry(2, status=502, error_code="upstream_error", channel="ch_abc"),
        _entry(3, stream=True, ttft_ms=12, latency_ms=300),
        _entry(4, key_id="key_a2"),
        _entry(5, key_id="key_b", user_id=None, status=429, error_code="rate_limited"),
        _entry(6, key_id="key_b", user_id=None, model="m2"),
    ]
    await write_rows(db, [usage_row(e) for e in entries])
    return db


def _ids(rows: list) -> list[str]:  # type: ignore[type-arg]
    return [r.request_id for r in rows]


async def test_each_filter_narrows_the_log(logged: Database) -> None:
    everyone = Scope()

    async def ids(**where: object) -> list[str]:
        page = await log_page(logged, everyone, LogFilter(**where))  # type: ignore[arg-type]
        return _ids(page.rows)

    assert await ids() == [f"req-{n}" for n in (6, 5, 4, 3, 2, 1, 0)]
    assert await ids(model="m2") == ["req-6", "req-1"]
    assert await ids(channel="ch_abc") == ["req-2", "req-1"]
    assert await ids(key_id="key_a2") == ["req-4"]
    assert await ids(user_id="usr_a") == [f"req-{n}" for n in (4, 3, 2, 1, 0)]
    assert await ids(status="error") == ["req-5", "req-2"]
    assert await ids(status=429) == ["req-5"]
    assert len(await ids(status="ok")) == 5
    assert await ids(stream=True) == ["req-3"]
    assert await ids(stream=False, model="m1", key_id="key_a1") == ["req-2", "req-0"]
    window = {"since": T0 + timedelta(minutes=2), "until": T0 + timedelta(minutes=4)}
    assert await ids(**window) == ["req-3", "req-2"]
    assert await count_rows(logged, everyone, LogFilter(user_id="usr_a", status="ok")) == 4


async def test_rows_carry_names_channel_and_first_token(logged: Database) -> None:
    page = await log_page(logged, Scope(), LogFilter(channel="ch_abc", status="ok"))
    (row,) = page.rows
    assert (row.key_name, row.username, row.channel_name, row.cost_micros) == (
        "密钥一",
        "alice",
        "中转 A",
        9000,
    )
    streamed = (await log_page(logged, Scope(), LogFilter(stream=True))).rows[0]
    assert (streamed.ttft_ms, streamed.latency_ms) == (12, 300)
    keyless = (await log_page(logged, Scope(), LogFilter(key_id="key_b"))).rows[0]
    assert (keyless.user_id, keyless.username, keyless.key_name) == (None, None, "bob's")


async def test_a_scope_is_anded_with_the_filters(logged: Database) -> None:
    mine = Scope(key_id="key_a1")
    assert (await log_page(logged, mine, LogFilter(key_id="key_b"))).rows == []
    assert (await log_page(logged, mine, LogFilter(user_id="usr_b"))).rows == []
    assert len((await log_page(logged, mine, LogFilter())).rows) == 4
    account = Scope(user_id="usr_a")
    assert (await log_page(logged, account, LogFilter(key_id="key_b"))).rows == []
    assert _ids((await log_page(logged, account, LogFilter(key_id="key_a2"))).rows) == ["req-4"]


async def test_keyset_pages_cover_ties_once_in_order(db: Database) -> None:
    await _keys(db)
    same = T0  # rows of one instant are ordered by id, and no page repeats or skips one
    entries = [_entry(n, created_at=same if n % 2 else T0 + timedelta(seconds=n)) for n in range(9)]
    await write_rows(db, [usage_row(e) for e in entries])
    seen: list[str] = []
    after: Cursor | None = None
    pages = 0
    while True:
        page = await log_page(db, Scope(), LogFilter(), after, limit=2)
        seen += [r.id for r in page.rows]
        pages += 1
        if not page.has_more:
            break
        assert page.next is not None
        after = Cursor.decode(page.next.encode())
    assert pages == 5 and len(seen) == 9 and len(set(seen)) == 9
    everything = [r.id for r in (await log_page(db, Scope(), LogFilter(), limit=50)).rows]
    assert seen == everything
    streamed = [r.id async for r in log_rows(db, Scope(), LogFilter(), batch=4)]
    assert streamed == everything
    capped = [r.id async for r in log_rows(db, Scope(), LogFilter(), batch=4, cap=5)]
    assert capped == everything[:5]


def test_cursors_and_statuses_are_parsed_strictly() -> None:
    cursor = Cursor(T0, "use_123")
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "nope", "bm9waXBl", Cursor(T0.replace(tzinfo=None), "x").encode()):
        with pytest.raises(ValueError):
            Cursor.decode(bad)
    assert (parse_status("OK"), parse_status("error"), parse_status("404")) == ("ok", "error", 404)
    for bad in ("fine", "99", "600", ""):
        with pytest.raises(ValueError):
            parse_status(bad)


async def test_days_follow_the_viewers_zone_across_dst(db: Database) -> None:
    await _keys(db)
    # New York springs forward on 2026-03-08: that day has 23 hours, and its midnight is
    # 05:00 UTC while the next one is 04:00 UTC.
    moments = [
        datetime(2026, 3, 8, 4, 59, tzinfo=UTC),  # 23:59 EST, 7 March
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),  # 00:00 EST, 8 March
        datetime(2026, 3, 9, 3, 59, tzinfo=UTC),  # 23:59 EDT, 8 March
        datetime(2026, 3, 9, 4, 30, tzinfo=UTC),  # 00:30 EDT, 9 March (23:30 at UTC-5)
    ]
    entries = [_entry(n, created_at=m) for n, m in enumerate(moments)]
    await write_rows(db, [usage_row(e) for e in entries])
    new_york = ZoneInfo("America/New_York")
    bounds = day_bounds(new_york, date(2026, 3, 7), 3)
    assert bounds[2] - bounds[1] == timedelta(hours=23)
    sums = await daily(db, Scope(), bounds)
    assert [s.requests for s in sums] == [1, 2, 1]
    assert sums[1].total_tokens == 30 and sums[1].cost_micros == 2000
    kolkata = await daily(db, Scope(), day_bounds(ZoneInfo("Asia/Kolkata"), date(2026, 3, 8), 2))
    assert [s.requests for s in kolkata] == [2, 2]  # midnight there is 18:30 UTC
    assert [s.requests for s in await daily(db, Scope(key_id="key_b"), bounds)] == [0, 0, 0]


async def test_top_models_and_channel_error_rates(logged: Database) -> None:
    by_requests, by_cost = await top_models(
        logged, Scope(), T0 - timedelta(days=1), T0 + timedelta(days=1)
    )
    assert [(m.model, m.requests) for m in by_requests] == [("m1", 5), ("m2", 2)]
    assert [(m.model, m.cost_micros) for m in by_cost] == [("m2", 10000), ("m1", 5000)]
    mine, _ = await top_models(logged, Scope(key_id="key_b"), T0, T0 + timedelta(days=1))
    assert [(m.model, m.requests) for m in mine] == [("m1", 1), ("m2", 1)]
    rates = await channel_errors(logged, T0 - timedelta(hours=1))
    assert (rates["ch_abc"].requests, rates["ch_abc"].errors) == (2, 1)
    assert (rates["m1#0"].requests, rates["m1#0"].errors) == (5, 1)
