"""Rerank on this machine: the embedding model scores the documents (`local.py` blends)."""

from __future__ import annotations

import asyncio

from ..knowledge.service import KnowledgeService
from ..lazy_numpy import np
from ..protocol.rerank import RerankRequest
from .local import relevance_scores

EMBED_BATCH = 64  # documents per worker-thread call, as embeddings


async def rerank_locally(
    knowledge: KnowledgeService, request: RerankRequest
) -> tuple[list[float], int]:
    """One score per document, in request order, and the tokens the embedding model read."""
    texts = request.texts()
    query_vectors, tokens = await knowledge.embed([request.query], is_query=True)
    rows = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors, used = await knowledge.embed(texts[start : start + EMBED_BATCH])
        rows.append(vectors)
        tokens += used
    scores = await asyncio.to_thread(
        relevance_scores, request.query, texts, query_vectors[0], np.vstack(rows)
    )
    return scores, tokens
