"""`/v1/models` objects."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import WireModel


class ModelCard(WireModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    # What the model serves, as the paths under /v1 that take it (beyond OpenAI's card:
    # clients and the console tell chat models from embedding models by it).
    endpoints: list[str] = Field(default_factory=lambda: ["chat/completions", "completions"])
    # Local models only (Ollama's `/api/ps` in OpenAI's list): whether the model is in memory,
    # when it unloads if left idle (unix time; absent: kept loaded) and the bytes it takes.
    loaded: bool | None = None
    expires_at: int | None = None
    size: int | None = None


class ModelList(WireModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
