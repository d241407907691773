"""The model catalogue: public model names and the channels that serve them."""

from __future__ import annotations

import time

from ..protocol.errors import model_not_found
from ..protocol.models import ModelCard, ModelList
from ..settings import ChannelConfig, ModelConfig, Price
from .router import serves_group


class Catalogue:
    """The settings' models (and local models added with `/admin/models`), joined by the
    runtime channels of the database (`/admin/channels`): a model's channels are its
    settings' ones followed by every enabled runtime channel serving its name, and a name
    only runtime channels serve is a model of its own."""

    def __init__(self, models: list[ModelConfig]) -> None:
        self._models = {m.name: m for m in models}
        self._runtime: dict[str, list[ChannelConfig]] = {}
        self._merged: dict[str, ModelConfig] = dict(self._models)
        self._created = int(time.time())

    def __contains__(self, name: str) -> bool:
        return name in self._merged

    def add(self, model: ModelConfig) -> None:
        """A model added at runtime (`POST /admin/models`); its name must be new."""
        if model.name in self._models:
            raise ValueError(f"model {model.name!r} is already in the catalogue")
        self._models[model.name] = model
        self._merge()

    def remove(self, name: str) -> ModelConfig | None:
        model = self._models.pop(name, None)
        self._merge()
        return model

    def set_runtime_channels(self, by_model: dict[str, list[ChannelConfig]]) -> None:
        """Replace every runtime channel at once (the channel store's reload)."""
        self._runtime = {name: list(channels) for name, channels in by_model.items() if channels}
        self._merge()

    def configured(self, name: str) -> ModelConfig | None:
        """The model as the settings (or `/admin/models`) give it, without runtime channels."""
        return self._models.get(name)

    def models(self) -> list[ModelConfig]:
        return list(self._merged.values())

    def resolve(self, name: str) -> ModelConfig:
        model = self._merged.get(name)
        if model is None:
            raise model_not_found(name)
        return model

    def serves(self, name: str, group: str | None) -> bool:
        """Whether some channel of the model serves callers of `group` (a model only other
        groups' channels serve is not theirs to see: /v1/models leaves it out)."""
        model = self._merged.get(name)
        return model is not None and any(serves_group(c, group) for c in model.channels)

    def _merge(self) -> None:
        merged = dict(self._models)
        for name, channels in self._runtime.items():
            base = merged.get(name)
            if base is None:
                merged[name] = ModelConfig(
                    name=name,
                    owned_by=channels[0].provider,
                    channels=channels,
                    price=_highest(channels),
                )
            else:
                merged[name] = base.model_copy(update={"channels": [*base.channels, *channels]})
        self._merged = merged  # swapped whole: readers never see a half-built catalogue

    def card(self, name: str) -> ModelCard:
        model = self.resolve(name)
        return ModelCard(id=model.name, created=self._created, owned_by=model.owned_by)

    def cards(self, extra: list[str] | None = None, rerank: list[str] | None = None) -> ModelList:
        """Every model's card, then one for each `extra` name not already listed (the
        embedding models, which `/v1/embeddings` serves outside the catalogue), then the
        `rerank` ones (`/v1/rerank`'s)."""
        data = [self.card(name) for name in self._merged]
        data += [self.extra_card(name) for name in dict.fromkeys(extra or ()) if name not in self]
        listed = {card.id for card in data}
        data += [
            self.extra_card(name, "rerank")
            for name in dict.fromkeys(rerank or ())
            if name not in listed
        ]
        return ModelList(data=data)

    def extra_card(self, name: str, endpoint: str = "embeddings") -> ModelCard:
        return ModelCard(id=name, created=self._created, owned_by="modelport", endpoints=[endpoint])


def _highest(channels: list[ChannelConfig]) -> Price:
    """A model only runtime channels serve is held (quota) at its dearest channel's price;
    each request is then charged at the price of the channel that served it."""
    prices = [c.price for c in channels if c.price is not None]
    if not prices:
        return Price()
    cached = [p.cached_prompt for p in prices if p.cached_prompt is not None]
    return Price(
        prompt=max(p.prompt for p in prices),
        completion=max(p.completion for p in prices),
        per_search=max(p.per_search for p in prices),
        cached_prompt=max(cached) if cached else None,
    )
