"""Hybrid retrieval: vector and keyword candidates, language-balanced, floored, newest first.

`Retriever.retrieve` searches a large vector pool and the keyword index, ranks the union
with `rank.rank` (each script's cosines calibrated on their own, keyword evidence added,
each method's top hit kept in the top-k), drops passages whose absolute relevance is below
the score threshold, and moves superseded versions of near-duplicate documents after the
rest (`versions.prefer_current`). With a `Reranker` (rerank.py) a second embedder's opinion
reorders the best candidates before the floor. `fuse` (reciprocal-rank fusion) serves web
search.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .embed import Embedder
from .index.base import Hit, Index, StoredChunk
from .rank import Ranked, rank
from .rerank import Reranker
from .versions import passage_year, prefer_current


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk ready to cite: Baichuan's cites carry `title`, `content`, `file_id`."""

    kb_id: str
    file_id: str
    title: str
    content: str
    page: int | None
    heading: str | None
    score: float  # relevance in [0, 1]: the cosine (see rank.py), 1.0 for a keyword match


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """`candidates` keyword hits; `vector_pool` vector hits (split by script, so large);
    `score_threshold` the default floor on a passage's relevance; the rest as in rank.py."""

    candidates: int = 20
    rrf_k: int = 60
    vector_pool: int = 200
    background: int = 20
    keyword_weight: float = 2.0
    score_threshold: float = 0.79

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.rrf_k < 0 or self.vector_pool < 1:
            raise ValueError("candidates and vector_pool must be positive, rrf_k non-negative")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError("score_threshold must be in [0, 1]")


class Retriever:
    """Finds the passages of some knowledge bases that best answer a query.

    The keyword search needs no embedding, so it runs in a thread of its own while the query
    is embedded and its vector searched; both sides spend their time in native code that
    releases the GIL (SQLite, the embedding engine, BLAS).
    """

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        config: RetrievalConfig | None = None,
        *,
        reranker: Reranker | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._config = config or RetrievalConfig()
        self._keywords = ThreadPoolExecutor(thread_name_prefix="kb-keywords")
        self.reranker = reranker

    def retrieve(
        self,
        query: str,
        kb_ids: Sequence[str],
        *,
        top_k: int = 5,
        score_threshold: float | None = None,
    ) -> list[Passage]:
        """The best `top_k` passages (0 = every candidate) whose relevance is at least
        `score_threshold` (None: the configured default; 0: no floor).

        Synchronous and CPU-bound (it embeds the query): async callers run it in a worker
        thread.
        """
        if top_k < 0:
            raise ValueError("top_k must not be negative")
        if not query.strip() or not kb_ids:
            return []
        config = self._config
        floor = config.score_threshold if score_threshold is None else score_threshold
        keyword_search = self._keywords.submit(
            self._index.keyword_search, kb_ids, query, config.candidates
        )
        reranker = self.reranker
        second = self._keywords.submit(reranker.embed_query, query) if reranker else None
        try:
            vector = self._embedder.embed_queries([query])[0]
            by_vector = self._index.vector_search(kb_ids, vector, config.vector_pool)
        finally:
            by_keyword = keyword_search.result()
            second_vector = second.result() if second else None
        ranked = rank(
            query,
            by_vector,
            by_keyword,
            background=config.background,
            keyword_weight=config.keyword_weight,
            keep_top=top_k or 5,
        )
        if reranker is not None:
            ranked = reranker.rerank(second_vector, ranked)
        relevant = [r for r in ranked if r.relevance >= floor]
        current = prefer_current(
            query,
            relevant,
            file_of=lambda r: r.chunk.file_id,
            text_of=lambda r: r.chunk.content,
            year_of=_year,
        )
        passages = [_passage(r.chunk, r.relevance) for r in current]
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
        for position, hit in enumerate(ranking, start=1):
            key = hit.chunk.chunk_id
            chunks[key] = hit.chunk
            totals[key] = totals.get(key, 0.0) + 1.0 / (rrf_k + position)
    best_possible = len(rankings) / (rrf_k + 1)
    # Ties (common with RRF) keep document order so results are stable.
    order = sorted(totals, key=lambda key: (-totals[key], chunks[key].file_id, chunks[key].seq))
    return [(chunks[key], totals[key] / best_possible) for key in order]


def _year(ranked: Ranked) -> int | None:
    chunk = ranked.chunk
    return passage_year(chunk.title, chunk.heading, chunk.content)


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
