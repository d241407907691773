"""The synchronous pipeline from an uploaded file's bytes to indexed chunks."""

from __future__ import annotations

from dataclasses import dataclass

from .chunk import SplitConfig, chunk_document
from .document import FileKind
from .embed import Embedder
from .index.base import Index
from .parse import parse_document


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
) -> IngestResult:
    """Parse, chunk, embed and index one file into one knowledge base, replacing earlier chunks.

    Raises `UnsupportedFileType` or `ParseError` before anything is written. CPU-bound: run
    it in a worker thread or a background job.
    """
    document = parse_document(data, filename, content_type)
    chunks = chunk_document(document, split)
    vectors = embedder.embed_passages([chunk.search_text for chunk in chunks])
    stored = index.add(kb_id, file_id, filename, chunks, vectors)
    return IngestResult(kind=document.kind, chunks=stored, characters=len(document.text))
