"""The request log: a caller's own (`/v1/usage/requests`) or, for admins, everyone's
(`/admin/usage/requests`), filtered and paged; the same as CSV (`….csv`).

A caller's own: its key's rows, or every key's of its account when it signed in to the
console (a session acts as the account's console key and sends no Authorization header).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from ..accounting.keys import KeyRecord
from ..accounting.request_log import (
    MAX_LIMIT,
    Cursor,
    LogFilter,
    LogRow,
    Scope,
    log_page,
    log_rows,
    parse_status,
)
from ..accounting.request_log_csv import csv_chunks
from ..protocol.errors import APIError
from ..protocol.request_log import RequestLog, RequestLogEntry
from ..services import Services
from .admin import require_admin
from .deps import KeyDep, ServicesDep

router = APIRouter()
CSV_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The rows as CSV: UTF-8 with a byte-order mark, newest first.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
CSV_MAX_ROWS = 100_000  # one export; narrow the time range for more


def _utc(moment: datetime | None, param: str) -> datetime | None:
    """The time in UTC (naive times in a query are UTC already); a 400 for one that has no
    UTC equivalent (the first or last hours of the calendar in another zone)."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:
        raise APIError(400, f"'{param}' is out of range.", param=param) from None


@dataclass(frozen=True)
class LogQuery:
    where: LogFilter
    after: Cursor | None
    limit: int


def log_query(
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: Annotated[str | None, Query(max_length=40)] = None,
    key_id: Annotated[str | None, Query(max_length=40)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(description="an HTTP status, `ok` or `error`")] = None,
    stream: bool | None = None,
    after: Annotated[str | None, Query(max_length=300)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> LogQuery:
    try:
        parsed_status = parse_status(status) if status is not None else None
    except ValueError:
        raise APIError(
            400,
            f"Invalid value for 'status': {status!r} (use an HTTP status, 'ok' or 'error').",
            param="status",
        ) from None
    try:
        cursor = Cursor.decode(after) if after else None  # empty: from the newest
    except ValueError:
        raise APIError(
            400, "Invalid 'after': pass the 'next' of the previous page.", param="after"
        ) from None
    since, until = _utc(since, "since"), _utc(until, "until")
    if since is not None and until is not None and since >= until:
        raise APIError(400, "'since' must be before 'until'.", param="since")
    where = LogFilter(since, until, user_id, key_id, model, channel, parsed_status, stream)
    return LogQuery(where, cursor, limit)


QueryDep = Annotated[LogQuery, Depends(log_query)]


def own_scope(request: Request, key: KeyRecord) -> Scope:
    """The caller's own rows: its account's when signed in to the console, else its key's."""
    user_id = key.user_id
    if user_id is not None and not request.headers.get("authorization"):  # as require_key
        return Scope(user_id=user_id)
    return Scope(key_id=key.id)


def _entry(row: LogRow, currency: str) -> RequestLogEntry:
    return RequestLogEntry.model_validate({**dataclasses.asdict(row), "currency": currency})


async def _page(services: Services, scope: Scope, query: LogQuery) -> RequestLog:
    await services.ledger.flush()  # include this replica's latest requests
    page = await log_page(services.db, scope, query.where, query.after, query.limit)
    currency = services.settings.currency
    return RequestLog(
        data=[_entry(r, currency) for r in page.rows],
        next=page.next.encode() if page.next is not None else None,
        has_more=page.has_more,
    )


async def _csv(services: Services, scope: Scope, query: LogQuery) -> StreamingResponse:
    await services.ledger.flush()
    rows = log_rows(services.db, scope, query.where, cap=CSV_MAX_ROWS)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        csv_chunks(rows, services.settings.currency),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="requests-{stamp}.csv"'},
    )


@router.get("/v1/usage/requests")
async def own_requests(
    request: Request, key: KeyDep, services: ServicesDep, query: QueryDep
) -> RequestLog:
    return await _page(services, own_scope(request, key), query)


@router.get("/v1/usage/requests.csv", response_class=StreamingResponse, responses=CSV_RESPONSE)
async def own_requests_csv(
    request: Request, key: KeyDep, services: ServicesDep, query: QueryDep
) -> StreamingResponse:
    return await _csv(services, own_scope(request, key), query)


@router.get("/admin/usage/requests", dependencies=[Depends(require_admin)])
async def all_requests(services: ServicesDep, query: QueryDep) -> RequestLog:
    return await _page(services, Scope(), query)


@router.get(
    "/admin/usage/requests.csv",
    dependencies=[Depends(require_admin)],
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
async def all_requests_csv(services: ServicesDep, query: QueryDep) -> StreamingResponse:
    return await _csv(services, Scope(), query)
