"""`/admin/users`: find accounts, switch them off and on, move them between groups, set or
adjust their quotas, list their keys. Admin keys only (403 otherwise); roles are changed
elsewhere (the sign-in side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..accounting.accounts import Accounts, QuotaChange, QuotaRefused, Search, UnknownGroup
from ..accounting.pricing import to_micros
from ..protocol.accounts import UserInfo, UserList, UserPatch
from ..protocol.admin import KeyInfo, KeyList
from ..protocol.errors import APIError
from .admin import require_admin
from .deps import ServicesDep

router = APIRouter(prefix="/admin/users", dependencies=[Depends(require_admin)])


def get_accounts(services: ServicesDep) -> Accounts:
    return Accounts(services.db)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def _not_found(user_id: str) -> APIError:
    return APIError(404, f"No user with id {user_id}.", param="user_id", code="user_not_found")


@router.get("")
async def list_users(
    accounts: AccountsDep,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=200, description="In username, email, name.")] = None,
    group: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(pattern="^(active|disabled)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[str | None, Query(max_length=40)] = None,
) -> UserList:
    await services.ledger.flush()  # usage counters include this replica's latest requests
    found = await accounts.search(Search(q, group, status, limit + 1, after))
    page = found[:limit]
    return UserList(
        data=[UserInfo.model_validate(u) for u in page],
        has_more=len(found) > limit,
        last_id=page[-1].id if page else None,
    )


@router.get("/{user_id}")
async def get_user(user_id: str, accounts: AccountsDep, services: ServicesDep) -> UserInfo:
    await services.ledger.flush()
    record = await accounts.get(user_id)
    if record is None:
        raise _not_found(user_id)
    return UserInfo.model_validate(record)


@router.patch("/{user_id}")
async def update_user(
    user_id: str, body: UserPatch, accounts: AccountsDep, services: ServicesDep
) -> UserInfo:
    sent = body.model_fields_set
    for null in ("status", "group"):
        if null in sent and getattr(body, null) is None:
            raise APIError(400, f"'{null}' cannot be null.", param=null)
    await services.ledger.flush()  # the check against `used` sees this replica's spending
    try:
        record = await accounts.update(
            user_id, status=body.status, group=body.group, quota=_quota_change(body)
        )
    except UnknownGroup:
        raise APIError(
            400, f"No group named {body.group}.", param="group", code="group_not_found"
        ) from None
    except QuotaRefused:
        raise APIError(
            409,
            "The quota would fall below what the user has used and holds (send "
            "allow_below_used: true to allow it), or the quota adjusted is unlimited (set one).",
            param="quota",
            code="quota_conflict",
        ) from None
    services.keys.forget_user(user_id)  # its keys' cached status, group and quota flag
    if record is None:
        raise _not_found(user_id)
    return UserInfo.model_validate(record)


def _quota_change(body: UserPatch) -> QuotaChange | None:
    sent = body.model_fields_set
    change = QuotaChange(below_used=body.allow_below_used)
    for kind, set_field, adjust_field in (
        ("tokens", "quota_tokens", "adjust_tokens"),
        ("micros", "quota", "adjust"),
    ):
        if set_field in sent and adjust_field in sent:
            raise APIError(
                400, f"Send '{set_field}' or '{adjust_field}', not both.", param=adjust_field
            )
        if set_field in sent:
            value = getattr(body, set_field)
            change.set[kind] = value if value is None or kind == "tokens" else to_micros(value)
        elif adjust_field in sent and getattr(body, adjust_field) is not None:
            delta = getattr(body, adjust_field)
            change.adjust[kind] = delta if kind == "tokens" else to_micros(delta)
    return change if change.set or change.adjust else None


@router.get("/{user_id}/keys")
async def user_keys(user_id: str, accounts: AccountsDep, services: ServicesDep) -> KeyList:
    if await accounts.get(user_id) is None:
        raise _not_found(user_id)
    await services.ledger.flush()
    records = await services.keys.list(user_id=user_id)
    return KeyList(data=[KeyInfo.model_validate(r) for r in records])
