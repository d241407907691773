"""Pick the passages of fetched pages (and engine snippets) that best answer the query.

The ranking is the knowledge bases': keyword (BM25 over the same CJK-bigram/word terms)
and, when an embedder is given, e5 vectors, fused by reciprocal rank (`knowledge.retrieve.fuse`).
Pages are ranked in memory: they are read once and thrown away. Only a few chunks are
embedded per request (`vector_candidates`), as embedding is the slow part.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..knowledge.chunk import SplitConfig, chunk_segments
from ..knowledge.document import Segment
from ..knowledge.embed import Embedder
from ..knowledge.index.base import Hit, StoredChunk
from ..knowledge.keywords import terms
from ..knowledge.retrieve import fuse

_BM25_K1 = 1.2
_BM25_B = 0.75
MIN_CHUNK_CHARS = 60  # shorter chunks are dropped from a source that has longer ones


@dataclass(frozen=True, slots=True)
class SourceText:
    """Text found for one search result: its page's sections, or the engine's snippet."""

    title: str
    url: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class WebPassage:
    title: str
    url: str
    content: str
    score: float  # RRF score scaled to (0, 1], as for knowledge-base passages


@dataclass(frozen=True, slots=True)
class PassageLimits:
    count: int = 4  # passages to keep
    chunk_chars: int = 400  # longest passage
    budget_chars: int = 2000  # all passages together
    per_source: int = 2  # passages from one URL
    max_chunks: int = 64  # chunks ranked at most (earliest first)
    max_chunks_per_source: int = 16
    vector_candidates: int = 12  # chunks embedded per request: e5 costs ~0.1 s per chunk


def select_passages(
    query: str,
    sources: Sequence[SourceText],
    embedder: Embedder | None,
    limits: PassageLimits | None = None,
) -> list[WebPassage]:
    """The best passages, best first. Synchronous and CPU-bound when `embedder` is set."""
    limits = limits or PassageLimits()
    chunks = _chunks(sources, limits)
    if not chunks or not query.strip():
        return []
    by_keyword = _keyword_ranking(query, chunks)
    rankings = [by_keyword]
    if embedder is not None:
        candidates = _vector_candidates(chunks, by_keyword, limits.vector_candidates)
        rankings.append(_vector_ranking(query, candidates, embedder))
    fused = fuse(rankings)
    if not fused:
        return []
    picked: list[WebPassage] = []
    per_url: Counter[str] = Counter()
    used = 0
    for chunk, score in fused:
        if per_url[chunk.file_id] >= limits.per_source:
            continue
        if picked and used + len(chunk.content) > limits.budget_chars:
            continue
        picked.append(WebPassage(chunk.title, chunk.file_id, chunk.content, score))
        per_url[chunk.file_id] += 1
        used += len(chunk.content)
        if len(picked) >= limits.count:
            break
    return picked


def _chunks(sources: Sequence[SourceText], limits: PassageLimits) -> list[StoredChunk]:
    split = SplitConfig(
        chunk_max_len=limits.chunk_chars, chunk_overlap_len=min(40, limits.chunk_chars // 4)
    )
    out: list[StoredChunk] = []
    seen: set[tuple[str, str]] = set()
    per_url: Counter[str] = Counter()
    for source in sources:
        pieces = chunk_segments(source.segments, split)
        if any(len(piece.text) >= MIN_CHUNK_CHARS for piece in pieces):
            # Bylines, captions and stray labels: they share the heading's words with the
            # real paragraphs and, being short, would outrank them.
            pieces = [piece for piece in pieces if len(piece.text) >= MIN_CHUNK_CHARS]
        for piece in pieces:
            if (source.url, piece.text) in seen:
                continue
            seen.add((source.url, piece.text))
            out.append(
                StoredChunk(
                    chunk_id=len(out),
                    kb_id="web",
                    file_id=source.url,
                    title=source.title,
                    seq=len(out),
                    content=piece.text,
                    page=None,
                    heading=piece.heading,
                )
            )
            if len(out) >= limits.max_chunks:
                return out
            per_url[source.url] += 1
            if per_url[source.url] >= limits.max_chunks_per_source:
                break
    return out


def _vector_candidates(
    chunks: Sequence[StoredChunk], by_keyword: Sequence[Hit], limit: int
) -> list[StoredChunk]:
    """What the vectors rank: the keyword leaders, then the rest in page order, `limit` in all.

    Embedding every chunk of a few pages takes seconds on a small CPU; the keyword ranking
    is nearly free, so the vectors re-rank its best and catch paraphrases among the rest.
    """
    picked = {hit.chunk.chunk_id: hit.chunk for hit in by_keyword[:limit]}
    for chunk in chunks:
        if len(picked) >= limit:
            break
        picked.setdefault(chunk.chunk_id, chunk)
    return list(picked.values())


def _search_text(chunk: StoredChunk) -> str:
    # The heading is matched with the body, as in the knowledge index. The title is not: every
    # chunk of a page shares it, and it would lift the shortest ones (bylines, captions).
    return f"{chunk.heading}\n{chunk.content}" if chunk.heading else chunk.content


def _keyword_ranking(query: str, chunks: Sequence[StoredChunk]) -> list[Hit]:
    """BM25 of each chunk sharing a term with the query, best first."""
    wanted = set(terms(query))
    docs = [Counter(terms(_search_text(chunk))) for chunk in chunks]
    average = sum(sum(doc.values()) for doc in docs) / len(docs) or 1.0
    frequency = {t: sum(1 for doc in docs if t in doc) for t in wanted}
    hits: list[Hit] = []
    for chunk, doc in zip(chunks, docs, strict=True):
        length = sum(doc.values())
        score = 0.0
        for term in wanted & doc.keys():
            idf = math.log(1 + (len(docs) - frequency[term] + 0.5) / (frequency[term] + 0.5))
            tf = doc[term]
            norm = tf + _BM25_K1 * (1 - _BM25_B + _BM25_B * length / average)
            score += idf * tf * (_BM25_K1 + 1) / norm
        if score > 0:
            hits.append(Hit(chunk, score))
    return sorted(hits, key=lambda hit: -hit.score)


def _vector_ranking(query: str, chunks: Sequence[StoredChunk], embedder: Embedder) -> list[Hit]:
    question = embedder.embed_queries([query])[0]
    vectors = embedder.embed_passages([_search_text(chunk) for chunk in chunks])
    similarities = vectors @ question
    hits = [Hit(chunk, float(s)) for chunk, s in zip(chunks, similarities, strict=True)]
    return sorted(hits, key=lambda hit: -hit.score)
