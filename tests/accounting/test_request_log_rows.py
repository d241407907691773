"""Rows for the request log: journal lines written before migration 0013 still replay, and the
CSV export's bytes are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson

from modelport.accounting.ledger_journal import parse_rows
from modelport.accounting.request_log import LogRow
from modelport.accounting.request_log_csv import BOM, HEADER, cells, csv_chunks, money, safe_text
from modelport.accounting.usage import UsageEntry, usage_row

OLD_LINE = {  # a journal row as written before channel, user and first token were kept
    "id": "use_old",
    "request_id": "req-old",
    "key_id": "key_1",
    "owner": "o",
    "model": "m",
    "provider": "local",
    "prompt_tokens": 1,
    "completion_tokens": 2,
    "total_tokens": 3,
    "latency_ms": 4,
    "status": 200,
    "error_code": None,
    "stream": False,
    "created_at": "2026-12-01T00:00:00+00:00",
    "cost_micros": 0,
    "searches": 0,
    "estimated": False,
    "cached_tokens": 0,
    "reasoning_tokens": 0,
    "detail": None,
    "reservation": None,
}


def test_an_old_journal_line_gets_the_new_columns_empty() -> None:
    (row,) = parse_rows(orjson.dumps(OLD_LINE) + b"\n")
    assert {k: row[k] for k in ("channel", "channel_name", "user_id", "ttft_ms")} == dict.fromkeys(
        ("channel", "channel_name", "user_id", "ttft_ms")
    )
    entry = UsageEntry(
        "r", "k", "o", "m", "p", channel="m#0", channel_name="A", user_id="usr_1", ttft_ms=7
    )
    fresh = usage_row(entry)
    assert set(row) == set(fresh)  # the writer gets the same columns from both
    (again,) = parse_rows(orjson.dumps(fresh) + b"\n")
    assert (again["channel"], again["user_id"], again["ttft_ms"]) == ("m#0", "usr_1", 7)


def _row(**fields: object) -> LogRow:
    values: dict[str, object] = {
        "id": "use_1",
        "created_at": datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        "request_id": "req-1",
        "user_id": "usr_1",
        "username": "张三",
        "key_id": "key_1",
        "key_name": '=HYPERLINK("http://x")',
        "model": "qwen-中文",
        "provider": "openai_compat",
        "channel": "ch_1",
        "channel_name": "@SUM(A1)",
        "status": 200,
        "error_code": None,
        "stream": True,
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "total_tokens": 30,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
        "cost_micros": -12500,
        "latency_ms": 900,
        "ttft_ms": 120,
        "searches": 0,
        "estimated": False,
        "detail": "+1 image",
    }
    values.update(fields)
    return LogRow(**values)  # type: ignore[arg-type]


def test_text_that_would_be_a_formula_is_quoted() -> None:
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert safe_text(text) == "'" + text
    assert safe_text("plain -1") == "plain -1" and safe_text(None) == ""
    assert (money(-12500), money(1_000_000), money(1), money(0)) == (
        "-0.0125",
        "1",
        "0.000001",
        "0",
    )
    line = cells(_row(), "CNY")
    assert line[HEADER.index("key_name")] == '\'=HYPERLINK("http://x")'
    assert line[HEADER.index("channel_name")] == "'@SUM(A1)"
    assert line[HEADER.index("detail")] == "'+1 image"
    assert line[HEADER.index("cost")] == "-0.0125"  # our number, kept a number


async def test_csv_bytes_start_with_a_bom_and_keep_chinese() -> None:
    async def rows() -> AsyncIterator[LogRow]:
        for n in range(3):
            yield _row(request_id=f"req-{n}")

    body = b"".join([chunk async for chunk in csv_chunks(rows(), "CNY", every=2)])
    assert body.startswith(BOM + b"time,request_id,")
    text = body[len(BOM) :].decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == list(HEADER)
    assert [r[1] for r in parsed[1:]] == ["req-0", "req-1", "req-2"]
    assert parsed[1][HEADER.index("username")] == "张三"
    assert parsed[1][HEADER.index("currency")] == "CNY"
    assert b"\r\n" in body


def test_a_console_session_sees_its_accounts_rows_and_a_bearer_key_its_own() -> None:
    from starlette.requests import Request

    from modelport.accounting.keys import KeyRecord
    from modelport.accounting.request_log import Scope
    from modelport.api.request_log import own_scope

    def request(headers: list[tuple[bytes, bytes]]) -> Request:
        return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})

    made = datetime(2026, 12, 1, tzinfo=UTC)
    key = KeyRecord("key_1", "sk-…", "console", "o", False, made, user_id="usr_1")
    bearer = [(b"authorization", b"Bearer sk-x")]
    assert own_scope(request([]), key) == Scope(user_id="usr_1")  # the session's cookie
    assert own_scope(request(bearer), key) == Scope(key_id="key_1")
    keyless = KeyRecord("key_2", "sk-…", "k", "o", False, made)
    assert own_scope(request([]), keyless) == Scope(key_id="key_2")


def test_a_forged_cursor_off_the_calendar_is_refused() -> None:
    import base64

    from modelport.accounting.request_log import Cursor

    forged = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+05:00|use_1").decode()
    try:
        Cursor.decode(forged)
    except ValueError:
        return
    raise AssertionError("a cursor before year 1 in UTC was accepted")
