"""The dashboard: a caller's own (`/v1/dashboard`) or, for admins, everyone's with channel
health (`/admin/dashboard`), in the viewer's days (`tz`, an IANA zone)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ..accounting.dashboard import MAX_DAYS
from ..accounting.request_log import Scope
from ..protocol.dashboard import Dashboard
from .admin import require_admin
from .dashboard_view import dashboard
from .deps import KeyDep, ServicesDep
from .request_log import own_scope

router = APIRouter()
Zone = Annotated[str, Query(max_length=64, description="IANA time zone, e.g. Asia/Shanghai")]
Days = Annotated[int, Query(ge=1, le=MAX_DAYS)]


@router.get("/v1/dashboard")
async def own_dashboard(
    request: Request,
    key: KeyDep,
    services: ServicesDep,
    tz: Zone = "UTC",
    days: Days = 7,
    end: date | None = None,
) -> Dashboard:
    scope = own_scope(request, key)
    return await dashboard(services, scope, tz, days, end, with_channels=False)


@router.get("/admin/dashboard", dependencies=[Depends(require_admin)])
async def all_dashboard(
    services: ServicesDep, tz: Zone = "UTC", days: Days = 7, end: date | None = None
) -> Dashboard:
    return await dashboard(services, Scope(), tz, days, end, with_channels=True)
