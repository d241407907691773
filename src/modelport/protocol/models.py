"""`/v1/models` objects."""

from __future__ import annotations

from typing import Literal

from .base import WireModel


class ModelCard(WireModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(WireModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
