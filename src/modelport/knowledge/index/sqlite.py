"""The embedded index: one SQLite file with sqlite-vec for vectors and FTS5 for keywords.

Vectors live in a `vec0` table partitioned by knowledge base, so a search scans only the
knowledge bases it is asked about. Keywords are tokenized in Python (`keywords.py`) and
stored as space-separated terms in an FTS5 table with the plain `unicode61` tokenizer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from ..document import Chunk
from ..embed import Vectors
from ..errors import IndexStoreError
from ..keywords import document_terms, match_expression
from ._vector_cache import VectorCache, nearest
from .base import Hit, StoredChunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    kb_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    title TEXT NOT NULL,
    seq INTEGER NOT NULL,
    content TEXT NOT NULL,
    page INTEGER,
    heading TEXT
);
CREATE INDEX IF NOT EXISTS chunks_kb_file ON chunks (kb_id, file_id);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks (file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5 (terms, tokenize = 'unicode61');
"""
_VECTOR_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0 (
    chunk_id INTEGER PRIMARY KEY,
    kb_id TEXT PARTITION KEY,
    embedding float[{dimension}] distance_metric=cosine
)
"""
_CHUNK_COLUMNS = "c.id, c.kb_id, c.file_id, c.title, c.seq, c.content, c.page, c.heading"
DEFAULT_CACHED_VECTORS = 250_000  # ~370 MB of 384-dimensional float32 rows at most
_RANKED_TERMS = (
    "SELECT rowid, bm25(chunk_terms) AS score FROM chunk_terms"
    " WHERE chunk_terms MATCH ? ORDER BY score LIMIT ?"
)
_RANKED_TERMS_IN_KBS = (
    f"SELECT {_CHUNK_COLUMNS}, bm25(chunk_terms) AS score"
    " FROM chunk_terms JOIN chunks AS c ON c.id = chunk_terms.rowid"
    " WHERE chunk_terms MATCH ? AND c.kb_id IN ({marks})"
    " ORDER BY score LIMIT ?"
)
_KEYWORD_OVERFETCH = 4  # rows ranked per wanted hit before falling back to the join


class SqliteIndex:
    """`Index` on one SQLite database file (created if missing) at `path`.

    One connection serves writes and vector searches, another keyword searches, each one
    statement at a time; SQLite's WAL mode lets readers (here or in other processes) read
    while a file is being written.
    """

    def __init__(
        self, path: str | Path, dimension: int, *, cached_vectors: int = DEFAULT_CACHED_VECTORS
    ) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._db = _connect(path)
        self._db.execute("PRAGMA journal_mode = WAL")
        with self._transaction():
            self._db.execute(_SCHEMA)
            self._db.execute(_VECTOR_TABLE.format(dimension=int(dimension)))
            self._check_dimension()
        # Keyword searches read through a connection of their own, so that they run while
        # this one scans vectors (both release the GIL); WAL gives it committed data only.
        self._keywords = _connect(path)
        self._keywords_lock = threading.Lock()
        self._cache = VectorCache(cached_vectors)
        self._data_version = self._version()

    def _check_dimension(self) -> None:
        row = self._db.execute("SELECT value FROM index_meta WHERE key = 'dimension'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO index_meta (key, value) VALUES ('dimension', ?)",
                (str(self.dimension),),
            )
        elif int(row[0]) != self.dimension:
            raise IndexStoreError(
                f"index holds {row[0]}-dimensional vectors, embedder gives {self.dimension}"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # apsw's `with connection:` is a transaction (savepoint) that rolls back on error.
        with self._lock, self._db:
            yield

    def add(
        self, kb_id: str, file_id: str, title: str, chunks: Sequence[Chunk], vectors: Vectors
    ) -> int:
        if vectors.shape != (len(chunks), self.dimension):
            raise IndexStoreError(
                f"expected vectors of shape ({len(chunks)}, {self.dimension}), got {vectors.shape}"
            )
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._transaction():
            self._cache.drop(kb_id)
            self._delete(kb_id, file_id)
            for chunk, vector in zip(chunks, matrix, strict=True):
                self._insert(kb_id, file_id, title, chunk, vector.tobytes())
        return len(chunks)

    def _insert(self, kb_id: str, file_id: str, title: str, chunk: Chunk, vector: bytes) -> None:
        self._db.execute(
            "INSERT INTO chunks (kb_id, file_id, title, seq, content, page, heading)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kb_id, file_id, title, chunk.seq, chunk.text, chunk.page, chunk.heading),
        )
        chunk_id = self._db.last_insert_rowid()
        self._db.execute(
            "INSERT INTO chunk_vectors (chunk_id, kb_id, embedding) VALUES (?, ?, ?)",
            (chunk_id, kb_id, vector),
        )
        self._db.execute(
            "INSERT INTO chunk_terms (rowid, terms) VALUES (?, ?)",
            (chunk_id, document_terms(chunk.search_text)),
        )

    def delete_file(self, file_id: str, kb_id: str | None = None) -> int:
        with self._transaction():
            return self._delete(kb_id, file_id)

    def delete_kb(self, kb_id: str) -> int:
        with self._transaction():
            return self._delete(kb_id, None)

    def _delete(self, kb_id: str | None, file_id: str | None) -> int:
        self._cache.drop(kb_id)  # None: a file may be in any knowledge base
        where, params = _scope(kb_id, file_id)
        ids = [row[0] for row in self._db.execute(f"SELECT id FROM chunks WHERE {where}", params)]
        for chunk_id in ids:
            self._db.execute("DELETE FROM chunk_vectors WHERE chunk_id = ?", (chunk_id,))
            self._db.execute("DELETE FROM chunk_terms WHERE rowid = ?", (chunk_id,))
        self._db.execute(f"DELETE FROM chunks WHERE {where}", params)
        return len(ids)

    def vector_search(self, kb_ids: Sequence[str], vector: Vectors, limit: int) -> list[Hit]:
        if limit <= 0 or not kb_ids:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dimension,):
            raise IndexStoreError(f"query vector has shape {vector.shape}")
        similarity: dict[int, float] = {}
        with self._lock:
            self._sync_cache()
            # Per knowledge base: with `kb_id IN (...)` sqlite-vec would apply k to each
            # partition separately anyway, and per-partition searches make that explicit.
            for kb_id in dict.fromkeys(kb_ids):
                similarity.update(self._partition_search(kb_id, query, limit))
            best = sorted(similarity, key=lambda cid: -similarity[cid])[:limit]
            chunks = _load(self._db, best)
        return [Hit(chunks[cid], similarity[cid]) for cid in best if cid in chunks]

    def _partition_search(self, kb_id: str, query: Vectors, limit: int) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the nearest chunks of one knowledge base."""
        cached = self._cache.get(kb_id)
        if cached is None:
            rows = list(
                self._db.execute(
                    "SELECT chunk_id, embedding FROM chunk_vectors WHERE kb_id = ?", (kb_id,)
                )
            )
            ids = np.array([int(row[0]) for row in rows], dtype=np.int64)
            matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
            matrix = matrix.reshape(len(rows), self.dimension)
            if self._cache.put(kb_id, ids, matrix):
                cached = (ids, matrix)
        if cached is not None:
            return nearest(cached[0], cached[1], query, limit)
        scanned = self._db.execute(  # too large to keep in memory: sqlite-vec's own scan
            "SELECT chunk_id, distance FROM chunk_vectors"
            " WHERE embedding MATCH ? AND k = ? AND kb_id = ?",
            (query.tobytes(), limit, kb_id),
        )
        # Cosine distance is 1 - cosine similarity.
        return [(int(cid), 1.0 - float(dist)) for cid, dist in scanned]

    def _version(self) -> int:
        row = self._db.execute("PRAGMA data_version").fetchone()
        return int(row[0]) if row else 0

    def _sync_cache(self) -> None:
        """Drop cached matrices when another connection (process) has written the index."""
        version = self._version()
        if version != self._data_version:
            self._cache.drop()
            self._data_version = version

    def keyword_search(self, kb_ids: Sequence[str], query: str, limit: int) -> list[Hit]:
        expression = match_expression(query)
        if limit <= 0 or not kb_ids or expression is None:
            return []
        wanted = set(kb_ids)
        with self._keywords_lock, self._keywords:  # one read transaction: one snapshot
            # BM25 must score every matching row; joining each to `chunks` for its KB first
            # measured half again as slow. So rank in FTS5 alone, then keep the wanted KBs'
            # rows: exact whenever enough of them remain or FTS5 had no more rows to give.
            fetch = limit * _KEYWORD_OVERFETCH
            ranked = list(self._keywords.execute(_RANKED_TERMS, (expression, fetch)))
            chunks = _load(self._keywords, [int(row[0]) for row in ranked])
            hits = [
                Hit(chunks[cid], -float(score))  # bm25() is lower-is-better: negate it
                for cid, score in ranked
                if cid in chunks and chunks[cid].kb_id in wanted
            ]
            if len(hits) < limit and len(ranked) == fetch:  # other KBs crowded them out
                marks = ", ".join("?" for _ in kb_ids)
                rows = self._keywords.execute(
                    _RANKED_TERMS_IN_KBS.format(marks=marks), (expression, *kb_ids, limit)
                )
                hits = [Hit(_stored(row[:8]), -float(row[8])) for row in rows]
        return hits[:limit]

    def count(self, kb_id: str, file_id: str | None = None) -> int:
        where, params = _scope(kb_id, file_id)
        with self._lock:
            row = self._db.execute(f"SELECT count(*) FROM chunks WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock, self._keywords_lock:
            self._keywords.close()
            self._db.close()


def _connect(path: str | Path) -> apsw.Connection:
    import sqlite_vec  # lazy: ships the native extension

    db = apsw.Connection(str(path))
    db.set_busy_timeout(5000)
    db.enable_load_extension(True)
    db.load_extension(sqlite_vec.loadable_path())
    db.enable_load_extension(False)
    return db


def _load(db: apsw.Connection, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
    if not chunk_ids:
        return {}
    marks = ", ".join("?" for _ in chunk_ids)
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS} FROM chunks AS c WHERE c.id IN ({marks})", tuple(chunk_ids)
    )
    return {int(row[0]): _stored(row) for row in rows}


def _scope(kb_id: str | None, file_id: str | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (over trusted column names) selecting a KB, a file, or a KB's file."""
    if kb_id is not None and file_id is not None:
        return "kb_id = ? AND file_id = ?", (kb_id, file_id)
    if kb_id is not None:
        return "kb_id = ?", (kb_id,)
    if file_id is not None:
        return "file_id = ?", (file_id,)
    raise ValueError("a knowledge base or a file is required")


def _stored(row: Sequence[Any]) -> StoredChunk:
    chunk_id, kb_id, file_id, title, seq, content, page, heading = row
    return StoredChunk(int(chunk_id), kb_id, file_id, title, int(seq), content, page, heading)
