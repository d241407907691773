"""`POST /v1/kbs/{kb_id}/search`: test retrieval, with the same cut a grounded chat applies."""

from __future__ import annotations

from fastapi import APIRouter

from ..knowledge.retrieve import Passage
from ..protocol.errors import ErrorResponse
from ..protocol.kb_search import KbSearchHit, KbSearchRequest, KbSearchResult
from .deps import ServicesDep
from .knowledge_deps import KbKeyDep, KnowledgeDep

router = APIRouter()
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404)
}


def search_hit(passage: Passage) -> KbSearchHit:
    return KbSearchHit(
        kb_id=passage.kb_id,
        file_id=passage.file_id,
        filename=passage.title,
        page=passage.page,
        heading=passage.heading,
        content=passage.content,
        score=round(passage.score, 4),
    )


@router.post("/v1/kbs/{kb_id}/search", response_model=KbSearchResult, responses=_ERRORS)
async def search_kb(
    kb_id: str,
    body: KbSearchRequest,
    key: KbKeyDep,  # chat's 403 for a knowledge base off the key's allow-list
    knowledge: KnowledgeDep,
    services: ServicesDep,
) -> KbSearchResult:
    settings = services.settings.knowledge
    found = await knowledge.retrieve(
        key.owner,
        [kb_id],
        body.query,
        top_k=body.top_k or settings.top_k,
        relative_cut=settings.relative_cut,
        score_threshold=body.score_threshold,
    )
    return KbSearchResult(
        data=[search_hit(p) for p in found.passages], pending_files=found.pending_files
    )
