"""`/admin/...`: keys, redemption codes and usage, for admin keys only (403 otherwise)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from ..accounting.accounts import Accounts
from ..accounting.keys import KeyRecord
from ..accounting.pricing import to_micros
from ..accounting.usage_report import UsageFilter
from ..protocol.admin import (
    CodeBatch,
    CodeBatchRequest,
    CodeInfo,
    CodeList,
    KeyCreated,
    KeyFields,
    KeyInfo,
    KeyList,
    NewCode,
    UsageInfo,
)
from ..protocol.errors import APIError
from .deps import KeyDep, ServicesDep
from .usage_view import TZ_HELP, parse_group_by, usage_info


def require_admin(key: KeyDep) -> KeyRecord:
    if not key.is_admin:
        raise APIError(
            403,
            "This endpoint needs an admin key.",
            type="permission_error",
            code="admin_required",
        )
    return key


AdminDep = Annotated[KeyRecord, Depends(require_admin)]
router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])


def key_changes(body: KeyFields) -> dict[str, Any]:
    """The fields the client sent, in the store's terms (currency → micro-units)."""
    changes = body.model_dump(exclude_unset=True, exclude={"quota"})
    changes = {k: v for k, v in changes.items() if k in KeyFields.model_fields}
    if "quota" in body.model_fields_set:
        changes["quota_micros"] = None if body.quota is None else to_micros(body.quota)
    return changes


def _not_found(key_id: str) -> APIError:
    return APIError(404, f"No key with id {key_id}.", param="key_id", code="key_not_found")


@router.post("/keys", status_code=201)
async def create_key(body: KeyFields, services: ServicesDep) -> KeyCreated:
    changes = key_changes(body)
    if changes.get("group_multiplier", 1.0) is None:  # null is the default, as for name/owner
        del changes["group_multiplier"]
    name = changes.pop("name", None) or "default"
    user_id = await _known_user(changes.pop("user_id", None), services)
    # None: the account's id, or the key's own id (a tenant of its own)
    owner = changes.pop("owner", None) or user_id
    is_admin = bool(changes.pop("is_admin", False))
    raw, record = await services.keys.create(
        name, owner, is_admin=is_admin, user_id=user_id, **changes
    )
    return KeyCreated.model_validate({**_info(record), "key": raw})


async def _known_user(user_id: str | None, services: ServicesDep) -> str | None:
    if user_id is not None and await Accounts(services.db).get(user_id) is None:
        raise APIError(400, f"No user with id {user_id}.", param="user_id", code="user_not_found")
    return user_id


@router.get("/keys")
async def list_keys(
    services: ServicesDep, owner: str | None = None, user_id: str | None = None
) -> KeyList:
    await services.ledger.flush()  # usage counters include this replica's latest requests
    records = await services.keys.list(owner, user_id=user_id)
    return KeyList(data=[KeyInfo.model_validate(r) for r in records])


@router.get("/keys/{key_id}")
async def get_key(key_id: str, services: ServicesDep) -> KeyInfo:
    await services.ledger.flush()
    record = await services.keys.get(key_id)
    if record is None:
        raise _not_found(key_id)
    return KeyInfo.model_validate(record)


@router.patch("/keys/{key_id}")
async def update_key(key_id: str, body: KeyFields, services: ServicesDep) -> KeyInfo:
    changes = key_changes(body)
    for required in ("name", "owner", "is_admin", "group_multiplier"):
        if required in changes and changes[required] is None:
            raise APIError(400, f"'{required}' cannot be null.", param=required)
    await _known_user(changes.get("user_id"), services)
    record = await services.keys.update(key_id, changes)
    if record is None:
        raise _not_found(key_id)
    return KeyInfo.model_validate(record)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, services: ServicesDep) -> KeyInfo:
    await services.keys.revoke(key_id)
    record = await services.keys.get(key_id)
    if record is None:
        raise _not_found(key_id)
    return KeyInfo.model_validate(record)


@router.delete("/keys/{key_id}")
async def delete_key(key_id: str, services: ServicesDep) -> KeyInfo:
    """Keys are never deleted (the ledger refers to them): DELETE revokes."""
    return await revoke_key(key_id, services)


@router.post("/keys/{key_id}/rotate")
async def rotate_key(key_id: str, services: ServicesDep) -> KeyCreated:
    rotated = await services.keys.rotate(key_id)
    if rotated is None:
        raise _not_found(key_id)
    raw, record = rotated
    return KeyCreated.model_validate({**_info(record), "key": raw})


@router.post("/redemption-codes", status_code=201)
async def create_codes(body: CodeBatchRequest, services: ServicesDep, format: str = "json") -> Any:
    """Mints a batch; the response (JSON, or CSV with `?format=csv`) is its only export."""
    if body.tokens <= 0 and to_micros(body.amount) <= 0:
        raise APIError(400, "A code must carry tokens or an amount.", param="tokens")
    minted = await services.codes.create_batch(
        body.batch, body.count, tokens=body.tokens, micros=to_micros(body.amount)
    )
    data = [NewCode.model_validate({**_fields(r), "code": raw}) for raw, r in minted]
    if format == "csv":
        lines = ["code,id,batch,tokens,micros"]
        lines += [f"{c.code},{c.id},{c.batch},{c.tokens},{c.micros}" for c in data]
        return Response("\n".join(lines) + "\n", status_code=201, media_type="text/csv")
    return CodeBatch(batch=body.batch, data=data)


@router.get("/redemption-codes")
async def list_codes(services: ServicesDep, batch: str | None = None) -> CodeList:
    return CodeList(data=[CodeInfo.model_validate(c) for c in await services.codes.list(batch)])


@router.get("/usage")
async def admin_usage(
    services: ServicesDep,
    group_by: Annotated[str, Query(description="Comma-separated: key, model, day.")] = "key",
    key_id: str | None = None,
    owner: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: Annotated[str | None, Query(max_length=64, description=TZ_HELP)] = None,
) -> UsageInfo:
    where = UsageFilter(key_id=key_id, owner=owner, model=model, since=since, until=until)
    await services.ledger.flush()  # other replicas' rows arrive within their flush interval
    return await usage_info(services.db, where, parse_group_by(group_by), tz)


def _info(record: KeyRecord) -> dict[str, Any]:
    return KeyInfo.model_validate(record).model_dump(exclude={"quota", "used", "status"})


def _fields(record: Any) -> dict[str, Any]:
    return CodeInfo.model_validate(record).model_dump()
