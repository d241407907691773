"""The embedded index: one SQLite file with sqlite-vec for vectors and FTS5 for keywords.

Vectors live in a `vec0` table partitioned by knowledge base, so a search scans only the
knowledge bases it is asked about. Keywords are tokenized in Python (`keywords.py`) and
stored as space-separated terms in an FTS5 table with the plain `unicode61` tokenizer;
large files rank them from in-memory postings instead (`_keyword_search.py`). Every write
bumps its knowledge bases' `kb_versions` rows, so that readers see when postings are stale."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import apsw

from ...lazy_numpy import np
from ..document import Chunk
from ..embed import Vectors
from ..errors import IndexStoreError
from ..keywords import document_terms
from ._chunk_rows import load as _load
from ._keyword_cache import DEFAULT_CACHED_CHUNKS, IN_MEMORY_FROM
from ._keyword_search import TOKENIZER, KeywordSearch
from ._vector_cache import APPROXIMATE_FROM, VectorCache
from .base import Hit

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
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5 (terms, tokenize = '{tokenizer}');
CREATE TABLE IF NOT EXISTS kb_versions (kb_id TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""
_VECTOR_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0 (
    chunk_id INTEGER PRIMARY KEY,
    kb_id TEXT PARTITION KEY,
    embedding float[{dimension}] distance_metric=cosine
)
"""
DEFAULT_CACHED_VECTORS = 250_000  # ~370 MB of 384-dimensional float32 rows at most


class SqliteIndex:
    """`Index` on one SQLite database file (created if missing) at `path`.

    One connection serves writes and vector searches, another keyword searches, each one
    statement at a time; SQLite's WAL mode lets readers (here or in other processes) read
    while a file is being written. Vector searches scan in-memory copies of up to
    `cached_vectors` rows; knowledge bases of `approximate_from` rows or more (None: never)
    are pre-filtered by sign codes first, then the candidates are scored exactly. Once the
    file holds `keywords_in_memory_from` chunks (None: never), knowledge bases get in-memory
    keyword postings, up to `cached_keyword_chunks` chunks in all (past that, FTS5 again).
    """

    def __init__(
        self,
        path: str | Path,
        dimension: int,
        *,
        cached_vectors: int = DEFAULT_CACHED_VECTORS,
        approximate_from: int | None = APPROXIMATE_FROM,
        keywords_in_memory_from: int | None = IN_MEMORY_FROM,
        cached_keyword_chunks: int = DEFAULT_CACHED_CHUNKS,
    ) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._db = _connect(path)
        self._db.execute("PRAGMA journal_mode = WAL")
        with self._transaction():
            self._db.execute(_SCHEMA.format(tokenizer=TOKENIZER))
            self._db.execute(_VECTOR_TABLE.format(dimension=int(dimension)))
            self._check_dimension()
        # Keyword searches read through a connection of their own, so that they run while
        # this one scans vectors (both release the GIL); WAL gives it committed data only.
        self._keywords = KeywordSearch(
            _connect(path), keywords_in_memory_from, cached_keyword_chunks
        )
        self._cache = VectorCache(cached_vectors, approximate_from)
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
            self._touch([kb_id])
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
        rows = list(self._db.execute(f"SELECT id, kb_id FROM chunks WHERE {where}", params))
        ids = [row[0] for row in rows]
        self._touch(dict.fromkeys(row[1] for row in rows))
        for chunk_id in ids:
            self._db.execute("DELETE FROM chunk_vectors WHERE chunk_id = ?", (chunk_id,))
            self._db.execute("DELETE FROM chunk_terms WHERE rowid = ?", (chunk_id,))
        self._db.execute(f"DELETE FROM chunks WHERE {where}", params)
        return len(ids)

    def _touch(self, kb_ids: Iterable[str]) -> None:
        """Count a change to each knowledge base, in the writing transaction: readers compare
        the version in their snapshot with their in-memory keyword index's."""
        for kb_id in kb_ids:
            self._db.execute(
                "INSERT INTO kb_versions (kb_id, version) VALUES (?, 1)"
                " ON CONFLICT (kb_id) DO UPDATE SET version = version + 1",
                (kb_id,),
            )

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
            cached = self._cache.put(kb_id, ids, matrix)
        if cached is not None:
            return cached.nearest(query, limit)
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
        return self._keywords.search(kb_ids, query, limit)

    def count(self, kb_id: str, file_id: str | None = None) -> int:
        where, params = _scope(kb_id, file_id)
        with self._lock:
            row = self._db.execute(f"SELECT count(*) FROM chunks WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
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


def _scope(kb_id: str | None, file_id: str | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (over trusted column names) selecting a KB, a file, or a KB's file."""
    if kb_id is not None and file_id is not None:
        return "kb_id = ? AND file_id = ?", (kb_id, file_id)
    if kb_id is not None:
        return "kb_id = ?", (kb_id,)
    if file_id is not None:
        return "file_id = ?", (file_id,)
    raise ValueError("a knowledge base or a file is required")
