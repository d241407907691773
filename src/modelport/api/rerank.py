"""`POST /v1/rerank` (Jina's and Cohere's shape), served by the knowledge bases' ranking stack.

Admitted and booked as embeddings are: the key's model allow-list, quota and rate limits
apply, and each answer is a usage row (the tokens the embedding model read: the query's and
every document's) debited from its key. Scoring: `rerank/local.py`.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request

from ..accounting.booking import book_usage
from ..accounting.reservations import Hold
from ..accounting.usage import UsageEntry
from ..lazy_numpy import np
from ..protocol.errors import ErrorResponse, model_not_found
from ..protocol.rerank import RerankRequest, RerankResponse, RerankUsage, ranked
from ..rerank.local import relevance_scores
from .deps import KeyDep, ServicesDep
from .knowledge_deps import KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)
}
PROVIDER = "local"  # the embedded embedding model: what the ledger's provider column says
EMBED_BATCH = 64  # documents per worker-thread call, as embeddings


@router.post("/v1/rerank", response_model=RerankResponse, responses=_ERRORS)
async def create_rerank(
    request: Request,
    body: RerankRequest,
    key: KeyDep,
    knowledge: KnowledgeDep,
    services: ServicesDep,
) -> RerankResponse:
    if body.model not in services.settings.knowledge.rerank_models:
        raise model_not_found(body.model)
    texts = body.texts()
    reservation = None
    if services.gate is not None:
        # Held against a quota: at most a token per character (and two special tokens each).
        hold = Hold(len(body.query) + 2 + sum(len(text) + 2 for text in texts), 0)
        reservation = await services.gate.admit(key, body.model, [], hold)
    started = time.perf_counter()
    try:
        query_vectors, tokens = await knowledge.embed([body.query], is_query=True)
        rows = []
        for start in range(0, len(texts), EMBED_BATCH):
            vectors, used = await knowledge.embed(texts[start : start + EMBED_BATCH])
            rows.append(vectors)
            tokens += used
        document_vectors = np.vstack(rows)
        scores = await asyncio.to_thread(
            relevance_scores, body.query, texts, query_vectors[0], document_vectors
        )
    except BaseException:
        if services.gate is not None:
            await asyncio.shield(services.gate.release(reservation))
        raise
    entry = UsageEntry(
        request_id=request.state.request_id,
        key_id=key.id,
        owner=key.owner,
        model=body.model,
        provider=PROVIDER,
        prompt_tokens=tokens,
        latency_ms=int((time.perf_counter() - started) * 1000),
        reservation=reservation,
    )
    await book_usage(
        entry,
        key,
        ledger=services.ledger,
        gate=services.gate,
        metrics=services.metrics,
        channel=PROVIDER,
    )
    return RerankResponse(
        model=body.model,
        results=ranked(scores, body),
        usage=RerankUsage(total_tokens=tokens, prompt_tokens=tokens),
    )
