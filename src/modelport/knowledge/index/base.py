"""The `Index` protocol: chunk storage with vector and keyword search, scoped by knowledge base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..document import Chunk
from ..embed import Vectors


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as the index holds it, with where it came from."""

    chunk_id: int
    kb_id: str
    file_id: str
    title: str  # the file's name, shown to users as the citation title
    seq: int
    content: str
    page: int | None
    heading: str | None


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result; `score` is higher-is-better within one search method only."""

    chunk: StoredChunk
    score: float


class Index(Protocol):
    """Chunks and their vectors per (knowledge base, file).

    A file may belong to several knowledge bases; each (kb_id, file_id) pair is stored and
    replaced as a unit. Implementations must make `add` atomic: a reader sees all of a file's
    chunks or none. Methods are synchronous; async callers run them in a worker thread.
    """

    def add(
        self,
        kb_id: str,
        file_id: str,
        title: str,
        chunks: Sequence[Chunk],
        vectors: Vectors,
    ) -> int:
        """Store `chunks` (row i of `vectors` embeds chunk i), replacing the pair's old chunks.

        Returns the number of chunks stored.
        """
        ...

    def delete_file(self, file_id: str, kb_id: str | None = None) -> int:
        """Remove a file's chunks from one knowledge base, or from all when `kb_id` is None."""
        ...

    def delete_kb(self, kb_id: str) -> int:
        """Remove every chunk of a knowledge base; returns how many were removed."""
        ...

    def vector_search(self, kb_ids: Sequence[str], vector: Vectors, limit: int) -> list[Hit]:
        """Nearest chunks to a unit `vector`; score is cosine similarity."""
        ...

    def keyword_search(self, kb_ids: Sequence[str], query: str, limit: int) -> list[Hit]:
        """Chunks sharing terms with `query`, best BM25 first; score is the negated BM25 rank."""
        ...

    def count(self, kb_id: str, file_id: str | None = None) -> int:
        """How many chunks a knowledge base (or one of its files) holds."""
        ...

    def close(self) -> None: ...
