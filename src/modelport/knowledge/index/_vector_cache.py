"""In-memory copies of knowledge bases' vectors: exact search as one matrix product.

sqlite-vec scans a partition in C but measured ~5x slower than numpy on the same vectors
(bench/kb_bench.py), so the SQLite index keeps each searched knowledge base's matrix here,
within a memory budget, and drops it whenever that knowledge base changes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..embed import Vectors

ChunkIds = NDArray[np.int64]


class VectorCache:
    """At most `max_vectors` rows in all; the least recently loaded knowledge base goes first."""

    def __init__(self, max_vectors: int) -> None:
        self._max = max_vectors
        self._kbs: dict[str, tuple[ChunkIds, Vectors]] = {}
        self._rows = 0

    def get(self, kb_id: str) -> tuple[ChunkIds, Vectors] | None:
        return self._kbs.get(kb_id)

    def put(self, kb_id: str, ids: ChunkIds, matrix: Vectors) -> bool:
        """Keep a knowledge base's matrix; False (nothing kept) when it exceeds the budget."""
        self.drop(kb_id)
        if len(ids) > self._max:
            return False
        while self._kbs and self._rows + len(ids) > self._max:
            self.drop(next(iter(self._kbs)))
        self._kbs[kb_id] = (ids, matrix)
        self._rows += len(ids)
        return True

    def drop(self, kb_id: str | None = None) -> None:
        """Forget one knowledge base, or all of them."""
        if kb_id is None:
            self._kbs.clear()
            self._rows = 0
        elif (entry := self._kbs.pop(kb_id, None)) is not None:
            self._rows -= len(entry[0])


def nearest(ids: ChunkIds, matrix: Vectors, query: Vectors, limit: int) -> list[tuple[int, float]]:
    """The `limit` rows most similar to unit `query`, as (chunk id, cosine similarity)."""
    if not len(ids):
        return []
    scores = matrix @ query
    top = np.argpartition(-scores, min(limit, len(ids)) - 1)[:limit]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]
