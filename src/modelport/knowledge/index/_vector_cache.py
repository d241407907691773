"""In-memory copies of knowledge bases' vectors: exact search as one matrix product.

sqlite-vec scans a partition in C but measured ~5x slower than numpy on the same vectors
(bench/kb_bench.py), so the SQLite index keeps each searched knowledge base's matrix here,
within a memory budget, and drops it whenever that knowledge base changes.

Past `approximate_from` rows even numpy's scan weighs on a query (100k x 384 float32 is
150 MB read per query), so large knowledge bases also get sign codes (`_sign_codes.py`):
they pick a tenth of the rows and only those are scored exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from ...lazy_numpy import np
from ..embed import Vectors
from ._sign_codes import SignCodes

if TYPE_CHECKING:
    from numpy.typing import NDArray

ChunkIds: TypeAlias = "NDArray[np.int64]"
APPROXIMATE_FROM = 20_000  # rows; below this the exact scan takes a few ms at most
# Candidates scored exactly: a fraction of the rows, so that recall does not fall as a
# knowledge base grows. On real e5 vectors a tenth kept 0.94-0.96 of the exact top 20 and
# 0.96-0.98 of the top 10 (a 16th: 0.88-0.92 of the top 20; bench/kb_prefilter_recall.py),
# on random unit vectors 0.99+; the re-rank costs ~1.3 ms of a ~4.5 ms search at 100k rows.
CANDIDATE_FRACTION = 10
MIN_CANDIDATES = 2_000


@dataclass(frozen=True, slots=True)
class CachedVectors:
    """One knowledge base's chunk ids and unit vectors (row i embeds ids[i])."""

    ids: ChunkIds
    matrix: Vectors
    codes: SignCodes | None  # None: small enough to scan exactly

    def nearest(self, query: Vectors, limit: int) -> list[tuple[int, float]]:
        """The `limit` rows most similar to unit `query`, as (chunk id, cosine similarity).

        With codes, only their candidates are scored; the scores returned are exact.
        """
        if not len(self.ids) or limit <= 0:
            return []
        if self.codes is None:
            return _best(self.ids, _similarities(self.matrix, query), limit)
        wanted = max(MIN_CANDIDATES, len(self.ids) // CANDIDATE_FRACTION, limit)
        rows = self.codes.candidates(query, wanted)
        candidates = np.take(self.matrix, rows, axis=0)
        return _best(self.ids[rows], _similarities(candidates, query), limit)


class VectorCache:
    """At most `max_vectors` rows in all; the least recently loaded knowledge base goes first.

    `approximate_from` (rows, None = never) is where a knowledge base gets sign codes.
    """

    def __init__(self, max_vectors: int, approximate_from: int | None = APPROXIMATE_FROM) -> None:
        self._max = max_vectors
        self._approximate_from = approximate_from
        self._kbs: dict[str, CachedVectors] = {}
        self._rows = 0

    def get(self, kb_id: str) -> CachedVectors | None:
        return self._kbs.get(kb_id)

    def put(self, kb_id: str, ids: ChunkIds, matrix: Vectors) -> CachedVectors | None:
        """Keep a knowledge base's matrix; None (nothing kept) when it exceeds the budget."""
        self.drop(kb_id)
        if len(ids) > self._max:
            return None
        while self._kbs and self._rows + len(ids) > self._max:
            self.drop(next(iter(self._kbs)))
        large = self._approximate_from is not None and len(ids) >= self._approximate_from
        entry = CachedVectors(ids, matrix, SignCodes(matrix) if large else None)
        self._kbs[kb_id] = entry
        self._rows += len(ids)
        return entry

    def drop(self, kb_id: str | None = None) -> None:
        """Forget one knowledge base, or all of them."""
        if kb_id is None:
            self._kbs.clear()
            self._rows = 0
        elif (entry := self._kbs.pop(kb_id, None)) is not None:
            self._rows -= len(entry.ids)


def _similarities(matrix: Vectors, query: Vectors) -> NDArray[np.float32]:
    # einsum's own loop, not BLAS: OpenBLAS's matrix-vector product measured 2-3x slower
    # here (15 vs 6 ms over 100k x 384), and its threads stall when the other core is busy
    # with the keyword search that runs alongside.
    scores: NDArray[np.float32] = np.einsum("ij,j->i", matrix, query)
    return scores


def _best(ids: ChunkIds, scores: NDArray[np.float32], limit: int) -> list[tuple[int, float]]:
    top = np.argpartition(-scores, min(limit, len(ids)) - 1)[:limit]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in top]
