"""A key's own account: `GET /v1/key` (limits and balance), `GET /v1/usage`, `POST /v1/redeem`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ..accounting.accounts import Accounts
from ..accounting.usage_report import UsageFilter
from ..protocol.accounts import Redeemed, UserInfo
from ..protocol.admin import KeyInfo, RedeemRequest, UsageInfo
from ..protocol.errors import APIError
from .deps import KeyDep, ServicesDep
from .usage_view import TZ_HELP, parse_group_by, usage_info

router = APIRouter(prefix="/v1")


async def _fresh(key_id: str, services: ServicesDep) -> KeyInfo:
    await services.ledger.flush()  # usage counters include this replica's latest requests
    record = await services.keys.get(key_id)
    if record is None:  # deleted under our feet; keys are never deleted, so unreachable
        raise APIError(401, "Unknown key.", code="invalid_api_key")
    return KeyInfo.model_validate(record)


@router.get("/key")
async def own_key(key: KeyDep, services: ServicesDep) -> KeyInfo:
    return await _fresh(key.id, services)


@router.get("/usage")
async def own_usage(
    key: KeyDep,
    services: ServicesDep,
    group_by: Annotated[str, Query(description="Comma-separated: model, day.")] = "model",
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: Annotated[str | None, Query(max_length=64, description=TZ_HELP)] = None,
) -> UsageInfo:
    where = UsageFilter(key_id=key.id, model=model, since=since, until=until)
    await services.ledger.flush()
    return await usage_info(services.db, where, parse_group_by(group_by), tz)


@router.post("/redeem")
async def redeem(body: RedeemRequest, key: KeyDep, services: ServicesDep) -> Redeemed:
    credit = await services.codes.redeem(body.code.strip(), key.id)
    if credit is None:
        raise APIError(
            400,
            "This redemption code is invalid, disabled or has already been redeemed.",
            param="code",
            code="invalid_redemption_code",
        )
    user = None if key.user_id is None else await Accounts(services.db).get(key.user_id)
    return Redeemed(
        credited_tokens=credit.tokens,
        credited_micros=credit.micros,
        key=await _fresh(key.id, services),
        user=None if user is None else UserInfo.model_validate(user),
    )
