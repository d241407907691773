"""GET /v1/models and /v1/models/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from ..protocol.errors import ErrorResponse, model_not_found
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


def local_state(services: Services, card: ModelCard) -> ModelCard:
    """A local model's card says whether it is loaded, until when, and its size (the
    OpenAI fields untouched); any other card is returned as it is."""
    if card.id not in services.catalogue:
        return card
    channel = next(
        (c for c in services.catalogue.resolve(card.id).channels if c.provider == "local"), None
    )
    provider = services.providers.created("local")
    if channel is None or provider is None:
        return card.model_copy(update={"loaded": False}) if channel is not None else card
    from ..providers.local.provider import LocalProvider  # already imported: it exists

    state = provider.status(channel) if isinstance(provider, LocalProvider) else None
    if state is None:
        return card.model_copy(update={"loaded": False})
    expires = None if state.expires_at is None else int(state.expires_at)
    update = {"loaded": state.loaded, "expires_at": expires if state.loaded else None}
    if state.loaded:
        update["size"] = state.size
    return card.model_copy(update=update)


@router.get(
    "/v1/models",
    response_model=ModelList,
    response_model_exclude_none=True,
    responses={401: {"model": ErrorResponse}},
)
async def list_models(key: KeyDep, services: ServicesDep) -> ModelList:
    knowledge = services.settings.knowledge
    cards = services.catalogue.cards(knowledge.embedding_models, _rerank_models(services))
    listed = {card.id for card in cards.data}
    images = [image_card(services, m.name) for m in services.settings.images]
    cards.data += [card for card in images if card is not None and card.id not in listed]
    catalogue = services.catalogue
    cards.data = [
        local_state(services, card)
        for card in cards.data
        if card.id not in catalogue or catalogue.serves(card.id, key.group)
    ]
    return cards


@router.get(
    "/v1/models/{model_id:path}",
    response_model=ModelCard,
    response_model_exclude_none=True,
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
    if model_id in catalogue and not catalogue.serves(model_id, key.group):
        raise model_not_found(model_id)  # only other groups' channels serve it
    return local_state(services, catalogue.card(model_id))


def _rerank_models(services: ServicesDep) -> list[str]:
    """The local rerank models, then those served through rerank channels."""
    upstream = [model.name for model in services.settings.rerank]
    return [*services.settings.knowledge.rerank_models, *upstream]
