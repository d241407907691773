"""`/v1/user/keys`: the keys of the caller's account, which it lists, makes and revokes.

A key made here belongs to the caller's account and shares its data (the caller key's
owner); it may carry sub-limits of its own, and is never an admin key nor priced below its
account's group. Another account's key id is a 404, as an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter

from ..accounting.keys import KeyRecord
from ..accounting.pricing import to_micros
from ..protocol.accounts import UserKeyFields
from ..protocol.admin import KeyCreated, KeyInfo, KeyList
from ..protocol.errors import APIError
from .deps import KeyDep, ServicesDep

router = APIRouter(prefix="/v1/user/keys")


def _account(key: KeyRecord) -> str:
    if key.user_id is None:
        raise APIError(
            403,
            "This key belongs to no user account; its keys are managed by an administrator.",
            type="permission_error",
            code="user_required",
        )
    return key.user_id


@router.get("")
async def list_own_keys(key: KeyDep, services: ServicesDep) -> KeyList:
    await services.ledger.flush()
    records = await services.keys.list(user_id=_account(key))
    return KeyList(data=[KeyInfo.model_validate(r) for r in records])


@router.post("", status_code=201)
async def create_own_key(body: UserKeyFields, key: KeyDep, services: ServicesDep) -> KeyCreated:
    limits = body.model_dump(exclude={"name", "expires_at", "quota"})
    limits["quota_micros"] = None if body.quota is None else to_micros(body.quota)
    raw, record = await services.keys.create(
        body.name,
        key.owner,
        is_admin=False,
        expires_at=body.expires_at,
        user_id=_account(key),
        **limits,
    )
    info = KeyInfo.model_validate(record).model_dump(exclude={"quota", "used", "status"})
    return KeyCreated.model_validate({**info, "key": raw})


@router.delete("/{key_id}")
async def revoke_own_key(key_id: str, key: KeyDep, services: ServicesDep) -> KeyInfo:
    found = await services.keys.get(key_id)
    if found is None or key.user_id is None or found.user_id != key.user_id:
        raise APIError(404, f"No key with id {key_id}.", param="key_id", code="key_not_found")
    await services.keys.revoke(key_id)
    revoked = await services.keys.get(key_id)
    assert revoked is not None  # keys are never deleted
    return KeyInfo.model_validate(revoked)
