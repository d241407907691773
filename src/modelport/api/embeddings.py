"""`POST /v1/embeddings`, served by the knowledge bases' embedding model."""

from __future__ import annotations

import base64

import numpy as np
from fastapi import APIRouter

from ..protocol.embeddings import Embedding, EmbeddingList, EmbeddingRequest, EmbeddingUsage
from ..protocol.errors import APIError, ErrorResponse, model_not_found
from .deps import KeyDep, ServicesDep
from .knowledge_deps import KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404)
}


@router.post("/v1/embeddings", response_model=EmbeddingList, responses=_ERRORS)
async def create_embeddings(
    body: EmbeddingRequest, key: KeyDep, knowledge: KnowledgeDep, services: ServicesDep
) -> EmbeddingList:
    if body.model not in services.settings.knowledge.embedding_models:
        raise model_not_found(body.model)
    dimension = knowledge.embedder.dimension
    if body.dimensions is not None and body.dimensions != dimension:
        raise APIError(
            400, f"This model only makes {dimension}-dimensional vectors.", param="dimensions"
        )
    vectors, tokens = await knowledge.embed(body.texts(), is_query=body.input_type == "query")
    data = [
        Embedding(embedding=_encode(row, body.encoding_format), index=i)
        for i, row in enumerate(vectors)
    ]
    usage = EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    return EmbeddingList(data=data, model=body.model, usage=usage)


def _encode(row: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in row]
