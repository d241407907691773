"""The synchronous pipeline from an uploaded file's bytes to indexed chunks."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ..lazy_numpy import np
from .chunk import SplitConfig, chunk_document
from .document import Chunk, FileKind
from .embed import Embedder, Vectors
from .errors import IngestionCancelled
from .index.base import Index
from .parse import parse_document
from .rerank import Reranker

# Chunks embedded between two looks at the cancel flag: a deleted file's work stops within
# one batch (a few seconds on one core), not after all its chunks.
EMBED_BATCH = 16


@dataclass(frozen=True, slots=True)
class IngestResult:
    kind: FileKind
    chunks: int
    characters: int


def ingest_file(
    index: Index,
    embedder: Embedder,
    *,
    kb_id: str,
    file_id: str,
    filename: str,
    data: bytes,
    content_type: str | None = None,
    split: SplitConfig | None = None,
    reranker: Reranker | None = None,
) -> IngestResult:
    """Parse, chunk, embed and index one file into one knowledge base, replacing earlier chunks.

    Raises `UnsupportedFileType` or `ParseError` before anything is written. CPU-bound and
    unbounded (in this process, no limits): for trusted files, benchmarks and tests; the
    server's ingestion parses in a `ParseSandbox` and calls `embed_and_index`.
    """
    document = parse_document(data, filename, content_type)
    chunks = chunk_document(document, split)
    stored = embed_and_index(index, embedder, kb_id, file_id, filename, chunks, reranker=reranker)
    return IngestResult(kind=document.kind, chunks=stored, characters=len(document.text))


def embed_and_index(
    index: Index,
    embedder: Embedder,
    kb_id: str,
    file_id: str,
    filename: str,
    chunks: Sequence[Chunk],
    cancel: threading.Event | None = None,
    *,
    reranker: Reranker | None = None,
) -> int:
    """Embed `chunks` batch by batch and index them; returns how many were stored. With a
    `reranker`, each batch's second-opinion vectors are stored too.

    Raises `IngestionCancelled` once `cancel` is set: before a batch, before writing, and
    after writing (having removed what it wrote), so a file deleted meanwhile never keeps
    chunks in the index.
    """
    texts = [chunk.search_text for chunk in chunks]
    parts: list[Vectors] = []
    for start in range(0, len(texts), EMBED_BATCH):
        _check(cancel)
        parts.append(embedder.embed_passages(texts[start : start + EMBED_BATCH]))
        if reranker is not None:
            reranker.remember(texts[start : start + EMBED_BATCH])
    vectors = np.concatenate(parts) if parts else embedder.embed_passages([])
    _check(cancel)
    stored = index.add(kb_id, file_id, filename, list(chunks), vectors)
    if cancel is not None and cancel.is_set():
        index.delete_file(file_id, kb_id)
        raise IngestionCancelled("the file was deleted or detached")
    return stored


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise IngestionCancelled("the file was deleted or detached")
