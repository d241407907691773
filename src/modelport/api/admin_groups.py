"""`/admin/groups`: account groups and their price ratios. Admin keys only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from ..accounting.groups import Deleted, GroupStore
from ..protocol.accounts import GROUP_NAME, GroupCreate, GroupInfo, GroupList, GroupPatch
from ..protocol.errors import APIError
from .admin import require_admin
from .deps import ServicesDep

router = APIRouter(prefix="/admin/groups", dependencies=[Depends(require_admin)])
NameDep = Annotated[str, Path(pattern=GROUP_NAME)]


def get_groups(services: ServicesDep) -> GroupStore:
    return GroupStore(services.db)


GroupsDep = Annotated[GroupStore, Depends(get_groups)]


def _not_found(name: str) -> APIError:
    return APIError(404, f"No group named {name}.", param="name", code="group_not_found")


@router.get("")
async def list_groups(groups: GroupsDep) -> GroupList:
    return GroupList(data=[GroupInfo.model_validate(g) for g in await groups.list()])


@router.post("", status_code=201)
async def create_group(body: GroupCreate, groups: GroupsDep) -> GroupInfo:
    created = await groups.create(body.name, body.ratio, body.description)
    if created is None:
        raise APIError(409, f"A group named {body.name} exists.", param="name", code="group_exists")
    return GroupInfo.model_validate(created)


@router.get("/{name}")
async def get_group(name: NameDep, groups: GroupsDep) -> GroupInfo:
    found = await groups.get(name)
    if found is None:
        raise _not_found(name)
    return GroupInfo.model_validate(found)


@router.patch("/{name}")
async def update_group(
    name: NameDep, body: GroupPatch, groups: GroupsDep, services: ServicesDep
) -> GroupInfo:
    updated = await groups.update(name, ratio=body.ratio, description=body.description)
    services.keys.forget_group(name)  # cached keys of its accounts carry the old ratio
    if updated is None:
        raise _not_found(name)
    return GroupInfo.model_validate(updated)


@router.delete("/{name}")
async def delete_group(name: NameDep, groups: GroupsDep) -> GroupInfo:
    found = await groups.get(name)
    outcome = await groups.delete(name)
    if outcome is Deleted.MISSING or found is None:
        raise _not_found(name)
    if outcome is Deleted.DEFAULT:
        raise APIError(409, "The default group cannot be deleted.", code="group_is_default")
    if outcome is Deleted.IN_USE:
        raise APIError(409, f"Group {name} still has users; move them first.", code="group_in_use")
    return GroupInfo.model_validate(found)
