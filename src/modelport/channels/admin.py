"""Runtime channel management: validate, store, apply everywhere; switch off a channel its
upstream refuses, and try switched-off channels again when they asked for it."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from ..providers.errors import UpstreamError
from ..providers.registry import ChannelConfigError, ProviderRegistry
from ..routing.router import Route
from ..settings import ModelConfig
from .disabling import disabling_reason
from .records import StoredChannel, config_of
from .store import DEFAULTS, ChannelStore
from .sync import ChannelSync

log = logging.getLogger("modelport.channels")


class ChannelInvalid(ValueError):
    """A channel the catalogue could not use; `field` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class ChannelAdmin:
    def __init__(
        self,
        store: ChannelStore,
        sync: ChannelSync,
        providers: ProviderRegistry,
    ) -> None:
        self.store = store
        self.sync = sync
        self._providers = providers

    async def create(self, values: dict[str, Any]) -> StoredChannel:
        self._check({**DEFAULTS, **values})
        channel = await self.store.create(values)
        await self.sync.changed()
        return channel

    async def update(self, channel_id: str, changes: dict[str, Any]) -> StoredChannel | None:
        current = await self.store.get(channel_id)
        if current is None:
            return None
        self._check({**_values(current), **changes})
        channel = await self.store.update(channel_id, changes)
        await self.sync.changed()
        return channel

    async def delete(self, channel_id: str) -> bool:
        deleted = await self.store.delete(channel_id)
        if deleted:
            await self.sync.changed()
        return deleted

    # The router's `ChannelRefusals`: only runtime channels can be switched off.
    def reason(self, route: Route, error: UpstreamError) -> str | None:
        if route.channel.id is None or not route.channel.id.startswith("ch_"):
            return None
        return disabling_reason(error)

    async def switch_off(self, route: Route, reason: str) -> None:
        assert route.channel.id is not None
        moved = await self.store.switch(
            route.channel.id, to="auto_disabled", reason=reason, only_from="enabled"
        )
        if moved:
            log.warning("channel %s switched off: %s", route.channel.id, reason)
            await self.sync.changed()

    async def reenable(self, channel_id: str) -> bool:
        moved = await self.store.switch(
            channel_id, to="enabled", reason=None, only_from="auto_disabled"
        )
        if moved:
            await self.sync.changed()
        return moved

    def _check(self, values: dict[str, Any]) -> None:
        """The channel as the catalogue would use it, checked as settings are at start-up."""
        if values.get("provider") == "local":
            raise ChannelInvalid(
                "provider", "local models are added with /admin/models, not as channels"
            )
        if not values.get("models"):
            raise ChannelInvalid("models", "a channel must serve at least one model")
        if not values.get("name"):
            raise ChannelInvalid("name", "a channel needs a name")
        if not values.get("provider"):
            raise ChannelInvalid("provider", "a channel needs a provider")
        unknown = set(values.get("model_mapping") or {}) - set(values["models"])
        if unknown:
            raise ChannelInvalid(
                "model_mapping", f"maps models the channel does not serve: {sorted(unknown)}"
            )
        try:
            models = [
                ModelConfig(name=m, channels=[config_of(values, m)]) for m in values["models"]
            ]
            self._providers.check(models)
        except ChannelConfigError as exc:
            raise ChannelInvalid(exc.field, exc.problem) from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise ChannelInvalid(where, first["msg"]) from exc

    async def aclose(self) -> None:
        await self.sync.aclose()


def _values(channel: StoredChannel) -> dict[str, Any]:
    return {name: getattr(channel, name) for name in (*DEFAULTS, "name", "provider", "models")}
