"""Channels as the admin API shows them: stored ones masked, config ones read-only, each
with this replica's circuit-breaker state."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..channels.records import StoredChannel, mask_key, masked_options
from ..protocol.channel_admin import ChannelInfo, PriceFields
from ..routing.catalogue import Catalogue
from ..routing.router import ChannelRouter


def _health(router: ChannelRouter, channel_id: str) -> dict[str, Any]:
    snap = router.health.breaker(channel_id).snapshot(channel_id)
    return {
        "state": snap.state,
        "recent_failures": snap.recent_failures,
        "recent_calls": snap.recent_calls,
        "opened_for": snap.opened_for,
        "total_failures": snap.total_failures,
        "total_successes": snap.total_successes,
    }


def stored_info(channel: StoredChannel, router: ChannelRouter) -> ChannelInfo:
    fields = dataclasses.asdict(channel)
    fields |= {
        "source": "database",
        "api_keys": [mask_key(k) for k in channel.api_keys],
        "options": masked_options(channel.options),
    }
    return ChannelInfo.model_validate(fields | _health(router, channel.id))


def config_infos(catalogue: Catalogue, router: ChannelRouter) -> list[ChannelInfo]:
    """The settings file's channels, one per model and index."""
    infos = []
    for model in catalogue.models():
        configured = catalogue.configured(model.name)
        if configured is None:
            continue
        for index, channel in enumerate(configured.channels):
            channel_id = router.route_id(configured, index)
            price = channel.price
            infos.append(
                ChannelInfo(
                    id=channel_id,
                    source="config",
                    model=model.name,
                    name=channel.name or channel_id,
                    provider=channel.provider,
                    base_url=channel.base_url,
                    api_keys=[mask_key(key) for key in channel.keys()],  # noqa: SIM118
                    models=[model.name],
                    model_mapping={model.name: channel.upstream_model}
                    if channel.upstream_model
                    else {},
                    weight=channel.weight,
                    priority=channel.priority,
                    groups=channel.groups,
                    proxy=channel.proxy,
                    connect_timeout=channel.connect_timeout,
                    read_timeout=channel.read_timeout,
                    first_token_timeout=channel.first_token_timeout,
                    idle_timeout=channel.idle_timeout,
                    price=None if price is None else PriceFields.model_validate(price.model_dump()),
                    options=masked_options(channel.options),
                    status="enabled",
                    **_health(router, channel_id),
                )
            )
    return infos
