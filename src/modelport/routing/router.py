"""Choosing a channel for a request: weighted random among the model's channels."""

from __future__ import annotations

import random

from ..settings import ChannelConfig, ModelConfig


class ChannelRouter:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def order(self, model: ModelConfig) -> list[ChannelConfig]:
        """Channels in the order to try them: a weighted draw without replacement."""
        pool = [c for c in model.channels if c.weight > 0] or list(model.channels)
        ordered: list[ChannelConfig] = []
        while pool:
            weights = [max(c.weight, 1) for c in pool]
            pick = self._rng.choices(range(len(pool)), weights=weights)[0]
            ordered.append(pool.pop(pick))
        return ordered
