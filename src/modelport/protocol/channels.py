"""The admin view of the channels: circuit-breaker state and call counts per channel."""

from __future__ import annotations

from typing import Literal

from .base import WireModel


class ChannelState(WireModel):
    id: str  # `model#index`, the index into the model's `channels` in the YAML
    model: str
    provider: str
    weight: int
    state: Literal["closed", "open", "half_open"]
    recent_failures: int
    recent_calls: int
    opened_for: float  # seconds until a probe is allowed (0 unless open)
    total_failures: int
    total_successes: int


class ChannelStateList(WireModel):
    object: Literal["list"] = "list"
    data: list[ChannelState]
