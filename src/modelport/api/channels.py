"""GET /admin/channels: every catalogue channel with its circuit-breaker state (admin only)."""

from __future__ import annotations

from fastapi import APIRouter

from ..protocol.channels import ChannelState, ChannelStateList
from ..protocol.errors import ErrorResponse
from .admin import AdminDep
from .deps import ServicesDep

router = APIRouter()


@router.get(
    "/admin/channels",
    response_model=ChannelStateList,
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
)
async def list_channels(admin: AdminDep, services: ServicesDep) -> ChannelStateList:
    router_ = services.chat.router
    data = []
    for model in services.catalogue.models():
        for index, channel in enumerate(model.channels):
            channel_id = router_.channel_id(model.name, index)
            snap = router_.health.breaker(channel_id).snapshot(channel_id)
            data.append(
                ChannelState(
                    id=channel_id,
                    model=model.name,
                    provider=channel.provider,
                    weight=channel.weight,
                    state=snap.state,
                    recent_failures=snap.recent_failures,
                    recent_calls=snap.recent_calls,
                    opened_for=snap.opened_for,
                    total_failures=snap.total_failures,
                    total_successes=snap.total_successes,
                )
            )
    return ChannelStateList(data=data)
