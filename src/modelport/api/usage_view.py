"""Shared by the admin and the key-owner usage endpoints: parse the grouping, shape the answer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from ..accounting.usage_report import GROUPS, GroupBy, UsageFilter, UsageRow, usage_report
from ..protocol.admin import UsageInfo, UsageRowInfo
from ..protocol.errors import APIError
from ..storage.db import Database
from .dashboard_view import zone_of

TZ_HELP = "IANA time zone (e.g. Asia/Shanghai): `day` groups are that zone's days, from `since` on."


def parse_group_by(value: str) -> list[GroupBy]:
    chosen: list[GroupBy] = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        match = next((g for g in GROUPS if g == part), None)
        if match is None:
            raise APIError(
                400,
                f"Invalid value for 'group_by': {part!r} (use key, model, day).",
                param="group_by",
            )
        chosen.append(match)
    return chosen


def _row(row: UsageRow) -> UsageRowInfo:
    return UsageRowInfo(
        key_id=row.group.get("key"),
        model=row.group.get("model"),
        day=row.group.get("day"),
        requests=row.requests,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        total_tokens=row.total_tokens,
        cost_micros=row.cost_micros,
        cached_tokens=row.cached_tokens,
        reasoning_tokens=row.reasoning_tokens,
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Naive times in a query are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def usage_info(
    db: Database, where: UsageFilter, group_by: list[GroupBy], tz: str | None = None
) -> UsageInfo:
    where = dataclasses.replace(where, since=_aware(where.since), until=_aware(where.until))
    zone = None if tz is None else zone_of(tz)
    if zone is not None and "day" in group_by and where.since is None:
        raise APIError(400, "Days in a time zone ('tz') need 'since'.", param="since")
    report = await usage_report(db, where, group_by, zone)
    return UsageInfo(
        group_by=list(group_by), data=[_row(r) for r in report.rows], totals=_row(report.totals)
    )
