"""Choosing channels for a request: a weighted draw among the model's healthy channels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from ..protocol.errors import model_not_found
from ..providers.errors import UpstreamError
from ..settings import ChannelConfig, ModelConfig, RoutingSettings
from .health import ChannelHealth


class ChannelRefusals(Protocol):
    """What to do when an upstream refuses a channel itself (its key, its balance): the
    runtime channel store switches such channels off (channels/)."""

    def reason(self, route: Route, error: UpstreamError) -> str | None: ...

    async def switch_off(self, route: Route, reason: str) -> None: ...


@dataclass(frozen=True)
class Route:
    """One attempt: a channel and its id for health tracking (`model#index`)."""

    id: str
    channel: ChannelConfig


def serves_group(channel: ChannelConfig, group: str | None) -> bool:
    """Whether a channel serves callers of `group` (None: a caller with no group, such as a
    key of no account, is served only by channels open to every group)."""
    return channel.groups is None or (group is not None and group in channel.groups)


class ChannelRouter:
    def __init__(
        self,
        health: ChannelHealth | None = None,
        settings: RoutingSettings | None = None,
        rng: random.Random | None = None,
        refusals: ChannelRefusals | None = None,
    ) -> None:
        self.refusals = refusals  # set once the channel store exists (services.py)
        self.settings = settings or RoutingSettings()
        self.health = health or ChannelHealth(self.settings)
        self._rng = rng or random.Random()

    def order(self, model: ModelConfig, group: str | None = None) -> list[int]:
        """Channel indexes in the order to try them: tier by tier (highest `priority` first),
        a weighted draw without replacement within a tier.

        Channels of weight 0 are kept for when every weighted channel of their tier is gone.
        A channel limited to groups is left out for a caller of another group.
        """
        channels = model.channels
        usable = [i for i, c in enumerate(channels) if serves_group(c, group)]
        ordered: list[int] = []
        for priority in sorted({channels[i].priority for i in usable}, reverse=True):
            tier = [i for i in usable if channels[i].priority == priority]
            pool = [i for i in tier if channels[i].weight > 0]
            spare = [i for i in tier if channels[i].weight == 0]
            while len(pool) > 1:
                weights = [channels[i].weight for i in pool]
                ordered.append(pool.pop(self._rng.choices(range(len(pool)), weights=weights)[0]))
            ordered += pool + spare
        return ordered

    def plan(self, model: ModelConfig, group: str | None = None) -> list[Route]:
        """The attempts for one request, at most `max_attempts`, skipping open circuits.

        When fewer healthy channels than attempts exist, a channel with several keys is
        tried again (its key ring hands out the next key).
        """
        routes = [self._route(model, i) for i in self.order(model, group)]
        if not routes:
            raise model_not_found(model.name)  # none of its channels serves this group
        healthy = [r for r in routes if self.health.breaker(r.id).available()]
        if not healthy:
            raise self._all_open(model, routes)
        limit = self.settings.max_attempts
        attempts = healthy[:limit]
        spare = [r for r in healthy if len(r.channel.keys()) > 1]
        while spare and len(attempts) < limit:
            attempts.extend(spare[: limit - len(attempts)])
        return attempts

    @staticmethod
    def channel_id(model: str, index: int) -> str:
        """A YAML channel's id for health and the admin API: `model#index` into its
        `channels`, unless it names itself with `id` (as runtime channels do)."""
        return f"{model}#{index}"

    def route_id(self, model: ModelConfig, index: int) -> str:
        return model.channels[index].id or self.channel_id(model.name, index)

    def _route(self, model: ModelConfig, index: int) -> Route:
        return Route(self.route_id(model, index), model.channels[index])

    def _all_open(self, model: ModelConfig, routes: list[Route]) -> UpstreamError:
        waits = [self.health.breaker(r.id).snapshot(r.id).opened_for for r in routes]
        retry_after = max(1, int(min(waits, default=1.0) + 0.999))
        return UpstreamError(
            503,
            f"every channel of `{model.name}` is failing; retry in {retry_after}s",
            code="no_healthy_channel",
            headers={"Retry-After": str(retry_after)},
        )
