"""Background ingestion: one worker turns attached files into indexed chunks, one at a time.

Statuses per attachment: `init` → `parsing` → `online` | `fail` (with the reason). The queue
lives in memory, the statuses in the database: on start, attachments left in `init` or
`parsing` (by a crash or a restart) are queued again, so ingestion survives restarts.
Parsing and embedding are CPU-bound; they run in a worker thread so the event loop (and
chat) keeps going, and one at a time so they take at most one core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .blobs import BlobStore
from .catalog import KnowledgeCatalog
from .embed import Embedder
from .errors import KnowledgeError
from .index.base import Index
from .ingest import IngestResult, ingest_file

log = logging.getLogger("modelport.knowledge")
T = TypeVar("T")


class IngestionWorker:
    def __init__(
        self, catalog: KnowledgeCatalog, blobs: BlobStore, index: Index, embedder: Embedder
    ) -> None:
        self._catalog = catalog
        self._blobs = blobs
        self._index = index
        self._embedder = embedder
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    async def start(self) -> None:
        """Queue what a previous run left unfinished, then start working."""
        for kb_id, file_id in await self._catalog.pending():
            self.enqueue(kb_id, file_id)
        self._task = asyncio.create_task(self._run(), name="knowledge-ingestion")

    def enqueue(self, kb_id: str, file_id: str) -> None:
        self._queue.put_nowait((kb_id, file_id))

    async def idle(self) -> None:
        """Wait until every queued job has finished (for benchmarks and tests)."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A job still in its thread finishes or dies with the process; its attachment stays
        # in `parsing` and is redone on the next start.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        while True:
            kb_id, file_id = await self._queue.get()
            try:
                await self.ingest(kb_id, file_id)
            except Exception:  # one bad job must not stop the worker
                log.exception("ingesting %s into %s failed", file_id, kb_id)
                await self._mark_failed(kb_id, file_id)
            finally:
                self._queue.task_done()

    async def _mark_failed(self, kb_id: str, file_id: str) -> None:
        try:
            await self._catalog.set_status(kb_id, file_id, "fail", reason="internal error")
        except Exception:  # the database itself may be what failed; the next start retries
            log.exception("could not mark %s in %s as failed", file_id, kb_id)

    async def ingest(self, kb_id: str, file_id: str) -> None:
        """Ingest one attachment now; a detached one (or a deleted file or KB) is skipped."""
        job = await self._catalog.job(kb_id, file_id)
        if job is None or not await self._catalog.set_status(kb_id, file_id, "parsing"):
            return
        record, split = job
        try:
            data = await self._in_thread(self._blobs.read, record.sha256)
        except OSError as exc:
            log.error("bytes of %s are missing: %s", file_id, exc)
            await self._catalog.set_status(kb_id, file_id, "fail", reason="file data is missing")
            return
        try:
            result = await self._in_thread(
                lambda: ingest_file(
                    self._index,
                    self._embedder,
                    kb_id=kb_id,
                    file_id=file_id,
                    filename=record.filename,
                    data=data,
                    content_type=record.content_type,
                    split=split,
                )
            )
        except KnowledgeError as exc:
            await self._catalog.set_status(kb_id, file_id, "fail", reason=str(exc) or "parse error")
            return
        await self._finish(kb_id, file_id, result)

    async def _finish(self, kb_id: str, file_id: str, result: IngestResult) -> None:
        online = await self._catalog.set_status(kb_id, file_id, "online", chunks=result.chunks)
        if not online:  # detached or deleted while we worked: drop what we indexed
            await self._in_thread(lambda: self._index.delete_file(file_id, kb_id))
        log.info("indexed %s into %s: %d chunks", file_id, kb_id, result.chunks)

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, *args)
