"""Recent requests from the usage ledger: a key's own (`/v1/usage/requests`) or, for admins,
everyone's (`/admin/usage/requests`, optionally one key's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..accounting.request_log import MAX_LIMIT, recent_requests
from ..protocol.request_log import RequestLog, RequestLogEntry
from .admin import require_admin
from .deps import KeyDep, ServicesDep

router = APIRouter()
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


async def _log(services: ServicesDep, key_id: str | None, limit: int) -> RequestLog:
    await services.ledger.flush()  # include this replica's latest requests
    rows = await recent_requests(services.db, key_id=key_id, limit=limit)
    return RequestLog(data=[RequestLogEntry.model_validate(r) for r in rows])


@router.get("/v1/usage/requests")
async def own_requests(key: KeyDep, services: ServicesDep, limit: Limit = 50) -> RequestLog:
    return await _log(services, key.id, limit)


@router.get("/admin/usage/requests", dependencies=[Depends(require_admin)])
async def all_requests(
    services: ServicesDep, key_id: str | None = None, limit: Limit = 50
) -> RequestLog:
    return await _log(services, key_id, limit)
