"""`POST /v1/embeddings`, served by the knowledge bases' embedding model.

Admitted and booked like a chat completion: the key's model allow-list, quota and rate
limits apply, and each answer is a usage row (prompt tokens only) debited from its key.

Every name in `knowledge.embedding_models` is the same multilingual-e5-small, 384 dimensions,
`Baichuan-Text-Embedding` included (Baichuan's own makes 1024): a client's code written for
Baichuan runs unchanged, and the vectors say their true size (`dimensions: 1024` is a 400);
nothing pads or projects them to pretend otherwise.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request

from ..accounting.metered import Metered
from ..accounting.reservations import Hold
from ..protocol.embeddings import Embedding, EmbeddingList, EmbeddingRequest, EmbeddingUsage
from ..protocol.errors import APIError, ErrorResponse, model_not_found
from .deps import KeyDep, ServicesDep
from .knowledge_deps import KnowledgeDep

if TYPE_CHECKING:
    import numpy as np

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)
}
PROVIDER = "local"  # the embedded embedding model: what the ledger's provider column says
EMBED_BATCH = 64  # inputs per worker-thread call


@router.post("/v1/embeddings", response_model=EmbeddingList, responses=_ERRORS)
async def create_embeddings(
    request: Request,
    body: EmbeddingRequest,
    key: KeyDep,
    knowledge: KnowledgeDep,
    services: ServicesDep,
) -> EmbeddingList:
    if body.model not in services.settings.knowledge.embedding_models:
        raise model_not_found(body.model)
    dimension = knowledge.embedder.dimension
    if body.dimensions is not None and body.dimensions != dimension:
        raise APIError(
            400, f"This model only makes {dimension}-dimensional vectors.", param="dimensions"
        )
    texts = body.texts()
    # Held against a quota: at most a token per character (and the two special tokens).
    hold = Hold(sum(len(text) + 2 for text in texts), 0)
    data: list[Embedding] = []
    tokens = 0
    async with Metered(services, key, request.state.request_id, body.model, hold) as meter:
        # In batches: each is one worker-thread call, so a 2048-input request neither holds a
        # thread (and the embedder) for its whole length nor keeps every vector at once.
        for start in range(0, len(texts), EMBED_BATCH):
            batch = texts[start : start + EMBED_BATCH]
            vectors, used = await knowledge.embed(batch, is_query=body.input_type == "query")
            tokens += used
            data.extend(
                Embedding(embedding=_encode(row, body.encoding_format), index=start + i)
                for i, row in enumerate(vectors)
            )
    await meter.book(provider=PROVIDER, prompt_tokens=tokens)
    usage = EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    return EmbeddingList(data=data, model=body.model, usage=usage)


def _encode(row: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in row]
