"""GET /v1/models and /v1/models/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from ..protocol.errors import ErrorResponse
from ..protocol.models import ModelCard, ModelList
from ..services import Services
from .deps import KeyDep, ServicesDep

router = APIRouter()
IMAGE_ENDPOINTS = ["images/generations", "images/edits"]


def image_card(services: Services, name: str) -> ModelCard | None:
    """The card of an image model (`images:` in the settings), None for another name."""
    model = next((m for m in services.settings.images if m.name == name), None)
    if model is None or name in services.catalogue:
        return None
    card = services.catalogue.extra_card(name)
    endpoints = IMAGE_ENDPOINTS if model.edits else IMAGE_ENDPOINTS[:1]
    return card.model_copy(update={"owned_by": model.owned_by, "endpoints": endpoints})


@router.get("/v1/models", response_model=ModelList, responses={401: {"model": ErrorResponse}})
async def list_models(key: KeyDep, services: ServicesDep) -> ModelList:
    knowledge = services.settings.knowledge
    cards = services.catalogue.cards(knowledge.embedding_models, _rerank_models(services))
    listed = {card.id for card in cards.data}
    images = [image_card(services, m.name) for m in services.settings.images]
    cards.data += [card for card in images if card is not None and card.id not in listed]
    return cards


@router.get(
    "/v1/models/{model_id:path}",
    response_model=ModelCard,
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def get_model(model_id: str, key: KeyDep, services: ServicesDep) -> ModelCard:
    catalogue = services.catalogue
    image = image_card(services, model_id)
    if image is not None:
        return image  # an image model (`/v1/images/...`)
    if model_id not in catalogue and model_id in services.settings.knowledge.embedding_models:
        return catalogue.extra_card(model_id)  # an embedding model (`/v1/embeddings`)
    if model_id not in catalogue and model_id in _rerank_models(services):
        return catalogue.extra_card(model_id, "rerank")  # a rerank model (`/v1/rerank`)
    return catalogue.card(model_id)


def _rerank_models(services: ServicesDep) -> list[str]:
    """The local rerank models, then those served through rerank channels."""
    upstream = [model.name for model in services.settings.rerank]
    return [*services.settings.knowledge.rerank_models, *upstream]
