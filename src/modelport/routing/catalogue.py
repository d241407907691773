"""The model catalogue: public model names and the channels that serve them."""

from __future__ import annotations

import time

from ..protocol.errors import model_not_found
from ..protocol.models import ModelCard, ModelList
from ..settings import ModelConfig


class Catalogue:
    def __init__(self, models: list[ModelConfig]) -> None:
        self._models = {m.name: m for m in models}
        self._created = int(time.time())

    def __contains__(self, name: str) -> bool:
        return name in self._models

    def add(self, model: ModelConfig) -> None:
        """A model added at runtime (`POST /admin/models`); its name must be new."""
        if model.name in self._models:
            raise ValueError(f"model {model.name!r} is already in the catalogue")
        self._models[model.name] = model

    def remove(self, name: str) -> ModelConfig | None:
        return self._models.pop(name, None)

    def models(self) -> list[ModelConfig]:
        return list(self._models.values())

    def resolve(self, name: str) -> ModelConfig:
        model = self._models.get(name)
        if model is None:
            raise model_not_found(name)
        return model

    def card(self, name: str) -> ModelCard:
        model = self.resolve(name)
        return ModelCard(id=model.name, created=self._created, owned_by=model.owned_by)

    def cards(self, extra: list[str] | None = None, rerank: list[str] | None = None) -> ModelList:
        """Every model's card, then one for each `extra` name not already listed (the
        embedding models, which `/v1/embeddings` serves outside the catalogue), then the
        `rerank` ones (`/v1/rerank`'s)."""
        data = [self.card(name) for name in self._models]
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
