"""`/admin/channels`: the upstream channels, managed at runtime (admin only).

Channels stored here join the settings file's: a model's channels are the file's followed
by every enabled stored channel serving its name (docs/channels.md). Changes reach every
replica within `channels.poll_seconds` (at once with Redis).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from ..channels.admin import ChannelAdmin, ChannelInvalid
from ..channels.balance import BalanceError, BalanceUnsupported
from ..channels.records import StoredChannel
from ..protocol.channel_admin import (
    ChannelBalance,
    ChannelDeleted,
    ChannelFields,
    ChannelInfo,
    ChannelInfoList,
    ChannelTestResult,
)
from ..protocol.errors import APIError, ErrorResponse
from ..services import Services
from .admin import require_admin
from .channel_view import config_infos, stored_info
from .deps import ServicesDep

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
}
router = APIRouter(
    prefix="/admin/channels", dependencies=[Depends(require_admin)], responses=ERRORS
)
ChannelId = Annotated[str, Path(max_length=100)]


def _admin(services: Services) -> ChannelAdmin:
    assert services.channels is not None
    return services.channels


async def _stored(services: Services, channel_id: str) -> StoredChannel:
    channel = await _admin(services).store.get(channel_id)
    if channel is None:
        raise APIError(
            404, f"No channel with id {channel_id}.", param="channel_id", code="channel_not_found"
        )
    return channel


def _invalid(exc: ChannelInvalid) -> APIError:
    return APIError(400, str(exc), param=exc.field, code="invalid_channel")


def _changes(body: ChannelFields) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if "price" in changes and body.price is not None:
        changes["price"] = body.price.model_dump()
    return changes


@router.get("")
async def list_channels(services: ServicesDep) -> ChannelInfoList:
    router_ = services.chat.router
    stored = [stored_info(c, router_) for c in await _admin(services).store.list()]
    return ChannelInfoList(data=config_infos(services.catalogue, router_) + stored)


@router.post("", status_code=201)
async def create_channel(body: ChannelFields, services: ServicesDep) -> ChannelInfo:
    try:
        channel = await _admin(services).create(_changes(body))
    except ChannelInvalid as exc:
        raise _invalid(exc) from None
    return stored_info(channel, services.chat.router)


@router.get("/{channel_id}")
async def get_channel(channel_id: ChannelId, services: ServicesDep) -> ChannelInfo:
    return stored_info(await _stored(services, channel_id), services.chat.router)


@router.patch("/{channel_id}")
async def update_channel(
    channel_id: ChannelId, body: ChannelFields, services: ServicesDep
) -> ChannelInfo:
    try:
        channel = await _admin(services).update(channel_id, _changes(body))
    except ChannelInvalid as exc:
        raise _invalid(exc) from None
    if channel is None:
        await _stored(services, channel_id)  # the 404
    assert channel is not None
    return stored_info(channel, services.chat.router)


@router.delete("/{channel_id}")
async def delete_channel(channel_id: ChannelId, services: ServicesDep) -> ChannelDeleted:
    if not await _admin(services).delete(channel_id):
        await _stored(services, channel_id)  # the 404
    return ChannelDeleted(id=channel_id)


@router.post("/{channel_id}/test")
async def test_channel(
    channel_id: ChannelId,
    services: ServicesDep,
    model: Annotated[str | None, Body(embed=True, max_length=200)] = None,
) -> ChannelTestResult:
    """A small real request through the channel (its first model unless `model` names
    another it serves): the latency, or the vendor's error with secrets removed."""
    channel = await _stored(services, channel_id)
    if model is not None and model not in channel.models:
        raise APIError(
            400, f"The channel does not serve `{model}`.", param="model", code="invalid_model"
        )
    assert services.channel_checks is not None
    result = await services.channel_checks.test(channel, model)
    return ChannelTestResult(
        ok=result.ok,
        model=model or channel.models[0],
        latency_ms=result.latency_ms,
        status=result.status,
        error=result.error,
        code=result.code,
    )


@router.post("/{channel_id}/balance")
async def refresh_balance(channel_id: ChannelId, services: ServicesDep) -> ChannelBalance:
    """The upstream account's balance, fetched now, where the vendor exposes one."""
    channel = await _stored(services, channel_id)
    assert services.channel_checks is not None
    try:
        balance, fetched_at = await services.channel_checks.balance(channel)
    except BalanceUnsupported as exc:
        raise APIError(400, str(exc), code="balance_unsupported") from None
    except BalanceError as exc:
        raise APIError(502, str(exc), type="upstream_error", code="balance_failed") from None
    return ChannelBalance(
        balance=None if balance.amount is None else str(balance.amount),
        currency=balance.currency,
        kind=balance.kind,
        fetched_at=fetched_at,
        detail=balance.detail,
    )
