"""`POST /v1/rerank` in the shape Jina and Cohere share (and resellers copy).

Request: `model`, `query`, `documents` (strings, or objects with `text`, as Jina and Cohere
v1 take), `top_n`, `return_documents`. Answer: `results` best first, each with the
document's `index` in the request, its `relevance_score` and, when asked, the `document`;
`usage` as Jina reports it and `meta.billed_units` as Cohere does, so either's client reads it.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import RequestModel, WireModel
from .ids import alnum_id

MAX_DOCUMENTS = 1000  # Cohere's bound per request
MAX_TEXT_CHARS = 8192  # as an embedding input


class DocumentObject(RequestModel):
    text: str


class RerankRequest(RequestModel):
    model: str = Field(min_length=1)
    query: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    documents: list[str | DocumentObject] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    top_n: int | None = Field(default=None, ge=1)
    # Jina's default (true); Cohere v2 sends none and reads only index and score.
    return_documents: bool = True

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("'query' must not be blank")
        return value

    @field_validator("documents")
    @classmethod
    def _documents(cls, value: list[str | DocumentObject]) -> list[str | DocumentObject]:
        for i, document in enumerate(value):
            text = document if isinstance(document, str) else document.text
            if len(text) > MAX_TEXT_CHARS:
                raise ValueError(f"documents[{i}] is longer than {MAX_TEXT_CHARS} characters")
        return value

    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]

    def keep(self) -> int:
        """How many results to answer: `top_n`, at most every document."""
        count = len(self.documents)
        return count if self.top_n is None else min(self.top_n, count)


class RerankDocument(WireModel):
    text: str


class RerankResult(WireModel):
    index: int
    relevance_score: float
    document: RerankDocument | None = Field(default=None, exclude_if=lambda v: v is None)


class RerankUsage(WireModel):
    total_tokens: int = 0
    prompt_tokens: int = 0


class BilledUnits(WireModel):
    search_units: int = 1


class RerankMeta(WireModel):
    billed_units: BilledUnits = Field(default_factory=BilledUnits)


def rerank_id() -> str:
    return "rerank-" + alnum_id(24)


class RerankResponse(WireModel):
    id: str = Field(default_factory=rerank_id)
    model: str
    results: list[RerankResult]
    usage: RerankUsage
    meta: RerankMeta = Field(default_factory=RerankMeta)


def ranked(scores: list[float], request: RerankRequest) -> list[RerankResult]:
    """The results for `scores` (one per document, in request order): best first (ties in
    document order), `top_n` of them, with their text when `return_documents`."""
    texts = request.texts()
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: request.keep()]
    return [
        RerankResult(
            index=i,
            relevance_score=scores[i],
            document=RerankDocument(text=texts[i]) if request.return_documents else None,
        )
        for i in order
    ]
