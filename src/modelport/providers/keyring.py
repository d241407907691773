"""Round-robin over a channel's keys, so several keys share one channel's load."""

from __future__ import annotations

from ..settings import ChannelConfig
from .errors import misconfigured


class KeyRing:
    def __init__(self) -> None:
        self._turns: dict[tuple[str, ...], int] = {}

    def next(self, channel: ChannelConfig, *, required: bool = True) -> str | None:
        keys = tuple(channel.keys())
        if not keys:
            if required:
                raise misconfigured(
                    f"channel for provider '{channel.provider}' has no api_key configured"
                )
            return None
        turn = self._turns.get(keys, 0)
        self._turns[keys] = turn + 1
        return keys[turn % len(keys)]
