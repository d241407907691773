"""`/v1/usage` and `/admin/usage` group by the viewer's days when given `tz` (an IANA zone):
the console's charts and tables then agree on what "today" is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.console.conftest import Console
from tests.console.test_usage import chat, new_key

# 25 hours apart: at any instant their calendar dates differ, so one of them is not UTC's.
ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")


def usage(console: Console, key: str, **params: str) -> httpx.Response:
    return httpx.get(
        console.server.api_url + "/usage",
        params=params,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def test_days_are_the_viewers_days(console: Console) -> None:
    key = new_key(console)
    chat(console, key)
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    days = {}
    for zone in ZONES:
        answer = usage(console, key, group_by="day", since=since, tz=zone)
        assert answer.status_code == 200, answer.text
        rows = answer.json()["data"]
        assert [r["requests"] for r in rows] == [1]
        days[zone] = rows[0]["day"]
        # the request was just made: it falls on today in that zone (or yesterday at midnight)
        today = datetime.now(ZoneInfo(zone)).date()
        assert days[zone] in {today.isoformat(), (today - timedelta(days=1)).isoformat()}
    assert days[ZONES[0]] != days[ZONES[1]]
    utc = usage(console, key, group_by="day", since=since).json()["data"][0]["day"]
    assert utc in {datetime.now(UTC).date().isoformat(), days[ZONES[0]], days[ZONES[1]]}


def test_an_unknown_zone_is_a_400(console: Console) -> None:
    key = new_key(console)
    since = datetime.now(UTC).isoformat()
    for zone in ("Mars/Olympus", "../etc/passwd", "/etc/localtime"):
        answer = usage(console, key, group_by="day", since=since, tz=zone)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["param"] == "tz"


def test_days_in_a_zone_need_a_start(console: Console) -> None:
    key = new_key(console)
    answer = usage(console, key, group_by="day", tz="Asia/Shanghai")
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "since"
