"""GET /v1/models and /v1/models/{id}."""

from __future__ import annotations

from fastapi import APIRouter

from ..protocol.errors import ErrorResponse
from ..protocol.models import ModelCard, ModelList
from .deps import KeyDep, ServicesDep

router = APIRouter()


@router.get("/v1/models", response_model=ModelList, responses={401: {"model": ErrorResponse}})
async def list_models(key: KeyDep, services: ServicesDep) -> ModelList:
    knowledge = services.settings.knowledge
    return services.catalogue.cards(knowledge.embedding_models, _rerank_models(services))


@router.get(
    "/v1/models/{model_id:path}",
    response_model=ModelCard,
    responses={401: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def get_model(model_id: str, key: KeyDep, services: ServicesDep) -> ModelCard:
    catalogue = services.catalogue
    if model_id not in catalogue and model_id in services.settings.knowledge.embedding_models:
        return catalogue.extra_card(model_id)  # an embedding model (`/v1/embeddings`)
    if model_id not in catalogue and model_id in _rerank_models(services):
        return catalogue.extra_card(model_id, "rerank")  # a rerank model (`/v1/rerank`)
    return catalogue.card(model_id)


def _rerank_models(services: ServicesDep) -> list[str]:
    """The local rerank models, then those served through rerank channels."""
    upstream = [model.name for model in services.settings.rerank]
    return [*services.settings.knowledge.rerank_models, *upstream]
