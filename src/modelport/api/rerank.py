"""`POST /v1/rerank` (Jina's and Cohere's shape): served on this machine by the knowledge
bases' embedding model (`rerank/embedded.py`), or through upstream rerank channels
(`rerank/upstream.py`: Jina, Cohere, resellers) for the models of the `rerank:` settings.

Admitted and booked as embeddings are: the key's model allow-list, quota (a hold of the
worst case) and rate limits apply, and each answer is a usage row debited from its key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..accounting.metered import Metered
from ..accounting.pricing import cost_micros
from ..accounting.reservations import Hold
from ..protocol.errors import ErrorResponse, model_not_found
from ..protocol.rerank import (
    RerankDocument,
    RerankRequest,
    RerankResponse,
    RerankResult,
    RerankUsage,
    ranked,
)
from ..providers.budget import estimate_tokens
from ..rerank.embedded import rerank_locally
from ..rerank.upstream import rerank_upstream
from ..settings import Price, RerankModelConfig
from .deps import KeyDep, ServicesDep
from .knowledge_deps import KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429, 502)
}
LOCAL = "local"  # the embedded embedding model: what the ledger's provider column says


@router.post("/v1/rerank", response_model=RerankResponse, responses=_ERRORS)
async def create_rerank(
    request: Request,
    body: RerankRequest,
    key: KeyDep,
    knowledge: KnowledgeDep,
    services: ServicesDep,
) -> RerankResponse:
    upstream = next((m for m in services.settings.rerank if m.name == body.model), None)
    if upstream is None and body.model not in services.settings.knowledge.rerank_models:
        raise model_not_found(body.model)
    price = upstream.price if upstream is not None else Price()
    multiplier = key.price_multiplier
    # At most a token per character, and two special tokens per text.
    most = len(body.query) + 2 + sum(len(text) + 2 for text in body.texts())
    hold = Hold(most, cost_micros(price, most, 0, multiplier))
    async with Metered(services, key, request.state.request_id, body.model, hold) as meter:
        results, tokens, estimated, provider = await _rank(body, upstream, services, knowledge)
    cost = cost_micros(price, tokens, 0, multiplier)
    await meter.book(provider=provider, prompt_tokens=tokens, cost_micros=cost, estimated=estimated)
    usage = RerankUsage(total_tokens=tokens, prompt_tokens=tokens)
    return RerankResponse(model=body.model, results=results, usage=usage)


async def _rank(
    body: RerankRequest,
    upstream: RerankModelConfig | None,
    services: ServicesDep,
    knowledge: KnowledgeDep,
) -> tuple[list[RerankResult], int, bool, str]:
    """The results, the tokens to book, whether they are an estimate, and the provider."""
    if upstream is None:
        scores, tokens = await rerank_locally(knowledge, body)
        return ranked(scores, body), tokens, False, LOCAL
    done = await rerank_upstream(services.upstream, upstream, body)
    texts = body.texts()
    results = [
        RerankResult(
            index=i,
            relevance_score=score,
            document=RerankDocument(text=texts[i]) if body.return_documents else None,
        )
        for i, score in done.ranking.scores
    ]
    chars = len(body.query) + sum(len(text) for text in texts)
    billed = done.ranking.tokens
    if billed is None:  # Cohere bills search units, not tokens: estimated from characters
        return results, estimate_tokens(chars), True, done.channel.provider
    # The vendor's count, kept within what the texts can hold (a token per character, two
    # special tokens per text): a larger claim is booked as that bound, as an estimate.
    most = chars + 2 * (len(texts) + 1)
    return results, min(billed, most), billed > most, done.channel.provider
