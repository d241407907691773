"""Choosing channels for a request: a weighted draw among the model's healthy channels."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..providers.errors import UpstreamError
from ..settings import ChannelConfig, ModelConfig, RoutingSettings
from .health import ChannelHealth


@dataclass(frozen=True)
class Route:
    """One attempt: a channel and its id for health tracking (`model#index`)."""

    id: str
    channel: ChannelConfig


class ChannelRouter:
    def __init__(
        self,
        health: ChannelHealth | None = None,
        settings: RoutingSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or RoutingSettings()
        self.health = health or ChannelHealth(self.settings)
        self._rng = rng or random.Random()
        self._ids: dict[tuple[str, int], str] = {}

    def order(self, model: ModelConfig) -> list[int]:
        """Channel indexes in the order to try them: a weighted draw without replacement.

        Channels of weight 0 are kept for when every weighted channel is gone.
        """
        channels = model.channels
        pool = [i for i, c in enumerate(channels) if c.weight > 0]
        spare = [i for i, c in enumerate(channels) if c.weight == 0]
        ordered: list[int] = []
        while len(pool) > 1:
            weights = [channels[i].weight for i in pool]
            ordered.append(pool.pop(self._rng.choices(range(len(pool)), weights=weights)[0]))
        return ordered + pool + spare

    def plan(self, model: ModelConfig) -> list[Route]:
        """The attempts for one request, at most `max_attempts`, skipping open circuits.

        When fewer healthy channels than attempts exist, a channel with several keys is
        tried again (its key ring hands out the next key).
        """
        routes = [self._route(model, i) for i in self.order(model)]
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
        """A channel's id for health and the admin API: `model#index` into its `channels`."""
        return f"{model}#{index}"

    def _route(self, model: ModelConfig, index: int) -> Route:
        key = (model.name, index)
        channel_id = self._ids.get(key)
        if channel_id is None:
            channel_id = self._ids[key] = self.channel_id(model.name, index)
        return Route(channel_id, model.channels[index])

    def _all_open(self, model: ModelConfig, routes: list[Route]) -> UpstreamError:
        waits = [self.health.breaker(r.id).snapshot(r.id).opened_for for r in routes]
        retry_after = max(1, int(min(waits, default=1.0) + 0.999))
        return UpstreamError(
            503,
            f"every channel of `{model.name}` is failing; retry in {retry_after}s",
            code="no_healthy_channel",
            headers={"Retry-After": str(retry_after)},
        )
