"""Local reranking with the knowledge bases' ranking stack: e5 embeddings and keyword terms.

A document's `relevance_score` (in [0, 1]) blends two signals the knowledge bases already rank
with: the cosine of the e5 query embedding with the document's passage embedding (clipped at
0), weighted `SEMANTIC_WEIGHT`, and the share of the query's distinct keyword terms (words, and
CJK character bigrams, as `keywords.py` splits them) found in the document, weighted
`KEYWORD_WEIGHT`. The keyword share lifts exact matches of names, codes and numbers that a
small embedding model blurs; when the query has no terms the cosine alone decides.

The knowledge bases fuse their two rankings by rank (RRF), which needs no common scale but
says nothing about how relevant a document is; a reranker's callers threshold its scores, so
here the scores themselves are blended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..knowledge.keywords import query_terms, terms
from ..lazy_numpy import np

if TYPE_CHECKING:
    from ..knowledge.embed import Vectors

SEMANTIC_WEIGHT = 0.85
KEYWORD_WEIGHT = 0.15


def keyword_share(wanted: Sequence[str], document: str) -> float:
    """The share of the query's distinct terms (`wanted`, not empty) the document holds."""
    present = set(terms(document))
    return sum(1 for term in wanted if term in present) / len(wanted)


def relevance_scores(
    query: str, documents: Sequence[str], query_vector: Vectors, document_vectors: Vectors
) -> list[float]:
    """One score in [0, 1] per document, in order (the vectors are L2-normalised rows)."""
    cosines = np.clip(document_vectors @ query_vector.reshape(-1), 0.0, 1.0)
    wanted = query_terms(query)
    scores = []
    for cosine, document in zip(cosines, documents, strict=True):
        if not wanted:
            scores.append(float(cosine))
        else:
            share = keyword_share(wanted, document)
            scores.append(SEMANTIC_WEIGHT * float(cosine) + KEYWORD_WEIGHT * share)
    return [min(1.0, max(0.0, round(score, 6))) for score in scores]
