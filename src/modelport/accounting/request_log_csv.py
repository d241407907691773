"""The request log as CSV, for spreadsheets: UTF-8 with a byte-order mark (without it Excel
reads UTF-8 as the local code page and Chinese key or model names come out garbled), and no
cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from decimal import Decimal

from .request_log import LogRow

BOM = "\ufeff".encode()
HEADER = (
    "time",
    "request_id",
    "user_id",
    "username",
    "key_id",
    "key_name",
    "model",
    "channel",
    "channel_name",
    "status",
    "error_code",
    "stream",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost",
    "currency",
    "latency_ms",
    "ttft_ms",
    "detail",
)
# A text cell starting with one of these is a formula to Excel, LibreOffice and Sheets
# (OWASP "CSV injection"; tab and carriage return too, which some strip before reading).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    """A text cell that is shown, never evaluated: a leading `'` before a formula's start."""
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def money(micros: int) -> str:
    """Micro-units as an exact decimal ("0.0125", "-2"), never a float's rounding."""
    text = format(Decimal(micros).scaleb(-6).normalize(), "f")
    return text


def cells(row: LogRow, currency: str) -> list[str | int]:
    """One row's cells. Numbers are ours (a refund's cost is negative on purpose) and are
    written as numbers; every text a caller could have chosen goes through `safe_text`."""
    return [
        row.created_at.isoformat(),
        safe_text(row.request_id),
        safe_text(row.user_id),
        safe_text(row.username),
        safe_text(row.key_id),
        safe_text(row.key_name),
        safe_text(row.model),
        safe_text(row.channel),
        safe_text(row.channel_name),
        row.status,
        safe_text(row.error_code),
        "true" if row.stream else "false",
        row.prompt_tokens,
        row.completion_tokens,
        row.total_tokens,
        money(row.cost_micros),
        currency,
        row.latency_ms,
        "" if row.ttft_ms is None else row.ttft_ms,
        safe_text(row.detail),
    ]


def _encode(lines: Iterable[Iterable[str | int]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)  # RFC 4180 line ends
    return buffer.getvalue().encode()


async def csv_chunks(
    rows: AsyncIterator[LogRow], currency: str, *, every: int = 500
) -> AsyncIterator[bytes]:
    """The BOM and header, then the rows in chunks of `every`, as they are read."""
    yield BOM + _encode([HEADER])
    pending: list[list[str | int]] = []
    async for row in rows:
        pending.append(cells(row, currency))
        if len(pending) >= every:
            yield _encode(pending)
            pending = []
    if pending:
        yield _encode(pending)
