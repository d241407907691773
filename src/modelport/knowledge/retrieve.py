"""Hybrid retrieval: vector and keyword candidates fused by reciprocal rank (RRF)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .embed import Embedder
from .index.base import Hit, Index, StoredChunk


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk ready to cite: Baichuan's cites carry `title`, `content`, `file_id`."""

    kb_id: str
    file_id: str
    title: str
    content: str
    page: int | None
    heading: str | None
    score: float


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """`candidates` per method; `rrf_k` damps the weight of top ranks (60 is the usual value)."""

    candidates: int = 20
    rrf_k: int = 60

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.rrf_k < 0:
            raise ValueError("candidates must be positive and rrf_k non-negative")


class Retriever:
    """Finds the passages of some knowledge bases that best answer a query.

    The keyword search needs no embedding, so it runs in a thread of its own while the query
    is embedded and its vector searched; both sides spend their time in native code that
    releases the GIL (SQLite, the embedding engine, BLAS).
    """

    def __init__(
        self, index: Index, embedder: Embedder, config: RetrievalConfig | None = None
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._config = config or RetrievalConfig()
        self._keywords = ThreadPoolExecutor(thread_name_prefix="kb-keywords")

    def retrieve(
        self, query: str, kb_ids: Sequence[str], *, top_k: int = 5, min_score: float = 0.0
    ) -> list[Passage]:
        """The best `top_k` passages (0 = every candidate) scoring at least `min_score`.

        Scores are RRF sums scaled to (0, 1]: 1.0 means ranked first by both methods, 0.5
        first by one only. Synchronous and CPU-bound (it embeds the query): async callers
        run it in a worker thread.
        """
        if top_k < 0:
            raise ValueError("top_k must not be negative")
        if not query.strip() or not kb_ids:
            return []
        limit = self._config.candidates
        keyword_search = self._keywords.submit(self._index.keyword_search, kb_ids, query, limit)
        try:
            vector = self._embedder.embed_queries([query])[0]
            by_vector = self._index.vector_search(kb_ids, vector, limit)
        finally:
            by_keyword = keyword_search.result()
        fused = fuse([by_vector, by_keyword], self._config.rrf_k)
        passages = [_passage(chunk, score) for chunk, score in fused if score >= min_score]
        return passages[:top_k] if top_k else passages


def fuse(rankings: Sequence[Sequence[Hit]], rrf_k: int = 60) -> list[tuple[StoredChunk, float]]:
    """Reciprocal-rank fusion: each list adds 1 / (rrf_k + rank) to a chunk, rank from 1.

    RRF uses only ranks, so cosine similarities and BM25 scores need no common scale.
    The sums are divided by the best possible sum so that scores fall in (0, 1].
    """
    if not rankings:
        return []
    totals: dict[int, float] = {}
    chunks: dict[int, StoredChunk] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            key = hit.chunk.chunk_id
            chunks[key] = hit.chunk
            totals[key] = totals.get(key, 0.0) + 1.0 / (rrf_k + rank)
    best_possible = len(rankings) / (rrf_k + 1)
    # Ties (common with RRF) keep document order so results are stable.
    order = sorted(totals, key=lambda key: (-totals[key], chunks[key].file_id, chunks[key].seq))
    return [(chunks[key], totals[key] / best_possible) for key in order]


def _passage(chunk: StoredChunk, score: float) -> Passage:
    return Passage(
        kb_id=chunk.kb_id,
        file_id=chunk.file_id,
        title=chunk.title,
        content=chunk.content,
        page=chunk.page,
        heading=chunk.heading,
        score=score,
    )
