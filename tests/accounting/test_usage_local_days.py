"""`day` groups in the viewer's zone (`/v1/usage?tz=`): rows fall on that zone's calendar days,
across a DST change, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from modelport.accounting.keys import KeyStore
from modelport.accounting.usage import UsageEntry, UsageLedger
from modelport.accounting.usage_report import UsageFilter, usage_report
from modelport.storage.db import Database

# New York moves to EDT at 2026-03-08 07:00 UTC: that local day has 23 hours.
AT = [
    datetime(2026, 3, 8, 4, 30, tzinfo=UTC),  # 03-07 23:30 EST
    datetime(2026, 3, 8, 5, 30, tzinfo=UTC),  # 03-08 00:30 EST
    datetime(2026, 3, 9, 3, 30, tzinfo=UTC),  # 03-08 23:30 EDT
    datetime(2026, 3, 9, 4, 30, tzinfo=UTC),  # 03-09 00:30 EDT
]
SINCE = datetime(2026, 3, 7, 5, 0, tzinfo=UTC)  # 03-07 00:00 EST
UNTIL = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 03-10 00:00 EDT


async def _days(db: Database, zone: ZoneInfo | None) -> dict[str, int]:
    report = await usage_report(db, UsageFilter(since=SINCE, until=UNTIL), ["day"], zone)
    return {row.group["day"]: row.requests for row in report.rows}


async def test_days_follow_the_zone_across_a_dst_change(db: Database) -> None:
    _, key = await KeyStore(db).create("k", "owner")
    ledger = UsageLedger(db)
    for n, at in enumerate(AT):
        await ledger.record(
            UsageEntry(
                request_id=f"r{n}",
                key_id=key.id,
                owner="owner",
                model="m",
                provider="local",
                prompt_tokens=1,
                completion_tokens=1,
                latency_ms=1,
                created_at=at,
            )
        )
    await ledger.flush()
    assert await _days(db, ZoneInfo("America/New_York")) == {
        "2026-03-07": 1,
        "2026-03-08": 2,
        "2026-03-09": 1,
    }
    assert await _days(db, None) == {"2026-03-08": 2, "2026-03-09": 2}  # UTC days
    assert await _days(db, ZoneInfo("Asia/Kolkata")) == {"2026-03-08": 2, "2026-03-09": 2}
