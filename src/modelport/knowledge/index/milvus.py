"""The scale-out index: one Milvus collection shared by every replica, through `pymilvus`.

Each row is one chunk of one (knowledge base, file) pair: a dense e5 vector searched by
cosine similarity, and the chunk's search text analysed by Milvus' `jieba` tokenizer (search
mode, so 知识 is found inside 知识库) into a sparse BM25 field by a schema `Function`. The
retriever fuses the two rankings itself (RRF, `retrieve.py`), as it does for SQLite.

`kb_id` is the partition key, so a search reads only the requested knowledge bases' data.
A URI ending in `.db` opens a local milvus-lite database (one process per directory only);
anything else is a Milvus server or cluster.

BM25 results are used for their order only: milvus-lite returns negative scores, so the
keyword hits carry their negated rank and nothing thresholds on BM25.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient

from ..document import Chunk
from ..embed import Vectors
from ..errors import IndexStoreError
from .base import Hit, StoredChunk

DEFAULT_COLLECTION = "modelport_chunks"
# jieba's search mode also emits the dictionary words inside longer words (知识库 → 知识).
# `lowercase` is a Milvus filter (milvus-lite lowercases jieba tokens on its own). No custom
# dictionary: on milvus-lite it would be global to the process.
ANALYZER = {"tokenizer": {"type": "jieba", "mode": "search"}, "filter": ["lowercase"]}
_ID_BYTES = 64
_LABEL_BYTES = 2048  # file names and headings; longer ones are clipped
_TEXT_BYTES = 65535  # Milvus' VARCHAR limit
_BATCH_ROWS = 500  # rows per insert request (~3 MB with 384-d vectors and 2 kB of text)
_OUTPUT = ["kb_id", "file_id", "title", "seq", "content", "page", "heading"]


class MilvusIndex:
    """`Index` on the collection `collection` (created if missing) at the Milvus `uri`.

    A file's chunks are inserted under a fresh generation tag and the pair's older
    generations are deleted afterwards; if the insert fails, the rows of the new generation
    that did land are deleted again, so a failed `add` leaves the old version in place.
    On Milvus each insert request becomes visible at one timestamp; a file larger than
    `_BATCH_ROWS` chunks appears request by request (the service cites a file only once its
    ingestion is complete, so readers never use a half-written file).
    """

    def __init__(
        self,
        uri: str,
        dimension: int,
        *,
        token: str = "",
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        self.dimension = dimension
        self._collection = collection
        self._write_lock = threading.Lock()
        self._client = MilvusClient(uri=uri, token=token)
        try:
            if self._client.has_collection(collection):
                self._check_dimension()
            else:
                self._create()
            # Required on every start: a released collection refuses searches.
            self._client.load_collection(collection)
        except BaseException:
            self._client.close()
            raise

    def _create(self) -> None:
        schema = MilvusClient.create_schema(auto_id=True)
        schema.add_field("chunk_id", DataType.INT64, is_primary=True)
        schema.add_field("kb_id", DataType.VARCHAR, max_length=_ID_BYTES, is_partition_key=True)
        schema.add_field("file_id", DataType.VARCHAR, max_length=_ID_BYTES)
        schema.add_field("generation", DataType.VARCHAR, max_length=_ID_BYTES)
        schema.add_field("title", DataType.VARCHAR, max_length=_LABEL_BYTES)
        schema.add_field("seq", DataType.INT64)
        schema.add_field("page", DataType.INT64, nullable=True)
        schema.add_field("heading", DataType.VARCHAR, max_length=_LABEL_BYTES, nullable=True)
        schema.add_field("content", DataType.VARCHAR, max_length=_TEXT_BYTES)
        schema.add_field(
            "search_text",
            DataType.VARCHAR,
            max_length=_TEXT_BYTES,
            enable_analyzer=True,
            analyzer_params=ANALYZER,
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_function(
            Function(
                name="search_text_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["search_text"],
                output_field_names=["sparse"],
            )
        )
        indexes = self._client.prepare_index_params()
        indexes.add_index(field_name="vector", index_type="AUTOINDEX", metric_type="COSINE")
        indexes.add_index(
            field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25"
        )
        self._client.create_collection(
            self._collection, schema=schema, index_params=indexes, consistency_level="Strong"
        )

    def _check_dimension(self) -> None:
        fields = self._client.describe_collection(self._collection).get("fields", [])
        dims = [int(f["params"]["dim"]) for f in fields if f.get("name") == "vector"]
        if not dims:
            raise IndexStoreError(f"collection {self._collection!r} has no `vector` field")
        if dims[0] != self.dimension:
            raise IndexStoreError(
                f"index holds {dims[0]}-dimensional vectors, embedder gives {self.dimension}"
            )

    def add(
        self, kb_id: str, file_id: str, title: str, chunks: Sequence[Chunk], vectors: Vectors
    ) -> int:
        if vectors.shape != (len(chunks), self.dimension):
            raise IndexStoreError(
                f"expected vectors of shape ({len(chunks)}, {self.dimension}), got {vectors.shape}"
            )
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        generation = uuid.uuid4().hex
        rows = [
            _row(kb_id, file_id, generation, title, chunk, vector)
            for chunk, vector in zip(chunks, matrix, strict=True)
        ]
        pair = f"kb_id == {_literal(kb_id)} and file_id == {_literal(file_id)}"
        with self._write_lock:
            try:
                for start in range(0, len(rows), _BATCH_ROWS):
                    self._client.insert(self._collection, rows[start : start + _BATCH_ROWS])
            except BaseException:
                self._client.delete(
                    self._collection, filter=f"{pair} and generation == {_literal(generation)}"
                )
                raise
            self._client.delete(
                self._collection, filter=f"{pair} and generation != {_literal(generation)}"
            )
        return len(rows)

    def delete_file(self, file_id: str, kb_id: str | None = None) -> int:
        where = f"file_id == {_literal(file_id)}"
        if kb_id is not None:
            where = f"kb_id == {_literal(kb_id)} and {where}"
        return self._delete(where)

    def delete_kb(self, kb_id: str) -> int:
        return self._delete(f"kb_id == {_literal(kb_id)}")

    def _delete(self, where: str) -> int:
        with self._write_lock:
            removed = self._count(where)
            if removed:
                self._client.delete(self._collection, filter=where)
        return removed

    def vector_search(self, kb_ids: Sequence[str], vector: Vectors, limit: int) -> list[Hit]:
        if limit <= 0 or not kb_ids:
            return []
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (self.dimension,):
            raise IndexStoreError(f"query vector has shape {vector.shape}")
        return self._search([query.tolist()], "vector", kb_ids, limit)

    def keyword_search(self, kb_ids: Sequence[str], query: str, limit: int) -> list[Hit]:
        if limit <= 0 or not kb_ids or not query.strip():
            return []
        hits = self._search([query], "sparse", kb_ids, limit)
        # Milvus' order is the BM25 ranking, but its scores are not comparable across
        # engines: milvus-lite returns negative ones, not even monotonic in its own order.
        # The score is therefore the negated rank (1 = best), which is all RRF uses.
        return [Hit(hit.chunk, -float(rank)) for rank, hit in enumerate(hits, start=1)]

    def _search(self, data: list[Any], field: str, kb_ids: Sequence[str], limit: int) -> list[Hit]:
        scope = ", ".join(_literal(kb_id) for kb_id in dict.fromkeys(kb_ids))
        results = self._client.search(
            self._collection,
            data=data,
            anns_field=field,
            filter=f"kb_id in [{scope}]",
            limit=limit,
            output_fields=_OUTPUT,
        )
        return [Hit(_stored(hit), float(hit["distance"])) for hit in results[0]]

    def count(self, kb_id: str, file_id: str | None = None) -> int:
        where = f"kb_id == {_literal(kb_id)}"
        if file_id is not None:
            where += f" and file_id == {_literal(file_id)}"
        return self._count(where)

    def _count(self, where: str) -> int:
        rows = self._client.query(self._collection, filter=where, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def close(self) -> None:
        self._client.close()


def _row(
    kb_id: str, file_id: str, generation: str, title: str, chunk: Chunk, vector: Vectors
) -> dict[str, Any]:
    for name, value in (("content", chunk.text), ("search text", chunk.search_text)):
        if len(value.encode()) > _TEXT_BYTES:
            raise IndexStoreError(f"chunk {chunk.seq}: {name} exceeds {_TEXT_BYTES} bytes")
    return {
        "kb_id": kb_id,
        "file_id": file_id,
        "generation": generation,
        "title": _clip(title),
        "seq": chunk.seq,
        "page": chunk.page,
        "heading": None if chunk.heading is None else _clip(chunk.heading),
        "content": chunk.text,
        "search_text": chunk.search_text,
        "vector": vector.tolist(),
    }


def _clip(text: str, limit: int = _LABEL_BYTES) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, at a character boundary."""
    return text.encode()[:limit].decode(errors="ignore")


def _literal(value: str) -> str:
    """A Milvus filter-expression string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stored(hit: dict[str, Any]) -> StoredChunk:
    row = hit["entity"]
    page = row.get("page")
    return StoredChunk(
        chunk_id=int(hit["chunk_id"]),
        kb_id=str(row["kb_id"]),
        file_id=str(row["file_id"]),
        title=str(row["title"]),
        seq=int(row["seq"]),
        content=str(row["content"]),
        page=None if page is None else int(page),
        heading=row.get("heading"),
    )
