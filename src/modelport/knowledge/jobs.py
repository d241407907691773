"""Background ingestion: one worker turns attached files into indexed chunks, one at a time.

Statuses per attachment: `init` → `parsing` → `online` | `fail` (with the reason). The queue
lives in memory, the statuses in the database: on start, attachments left in `init` or
`parsing` (by a crash or a restart) are queued again, so ingestion survives restarts.

One job at a time, so ingestion takes at most one core; owners take turns in the queue
(`FairQueue`), so one owner's backlog does not hold up another's file. Parsing runs in a
child process with a time limit and caps on characters and chunks (`ParseSandbox`), so a
small hostile file fails in bounded time; embedding runs in a worker thread. Deleting a
file or knowledge base (or detaching the file) cancels its job: a queued one is dropped,
a running one stops (its parsing child is killed, its embedding stops at the next batch)
and leaves nothing in the index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from .background import lower_this_thread
from .blobs import BlobStore
from .catalog import KnowledgeCatalog
from .embed import Embedder
from .errors import IngestionCancelled, KnowledgeError
from .fair_queue import FairQueue
from .index.base import Index
from .ingest import embed_and_index
from .limits import ParseLimits
from .rerank import Reranker
from .sandbox import ParseSandbox

log = logging.getLogger("modelport.knowledge")
T = TypeVar("T")


@dataclass(eq=False)
class _Job:
    kb_id: str
    file_id: str
    cancel: threading.Event = field(default_factory=threading.Event)

    def matches(self, file_id: str | None, kb_id: str | None) -> bool:
        return (file_id is None or self.file_id == file_id) and (
            kb_id is None or self.kb_id == kb_id
        )


class IngestionWorker:
    def __init__(
        self,
        catalog: KnowledgeCatalog,
        blobs: BlobStore,
        index: Index,
        embedder: Embedder,
        limits: ParseLimits | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self._catalog = catalog
        self._blobs = blobs
        self._index = index
        self._embedder = embedder
        self._reranker = reranker
        self.sandbox = ParseSandbox(limits or ParseLimits())
        self._queue: FairQueue[_Job] = FairQueue()
        self._running: _Job | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="ingest", initializer=lower_this_thread
        )

    async def start(self) -> None:
        """Queue what a previous run left unfinished, then start working."""
        for owner, kb_id, file_id in await self._catalog.pending():
            self.enqueue(owner, kb_id, file_id)
        self._task = asyncio.create_task(self._run(), name="knowledge-ingestion")

    def enqueue(self, owner: str, kb_id: str, file_id: str) -> None:
        self._queue.put(owner, _Job(kb_id, file_id))

    def cancel(self, *, file_id: str | None = None, kb_id: str | None = None) -> int:
        """Stop the work on a file (in one knowledge base, or all) or on a knowledge base:
        queued jobs are dropped, a running one told to stop. Returns the jobs affected."""
        if file_id is None and kb_id is None:
            raise ValueError("name a file or a knowledge base")
        affected = self._queue.remove(lambda job: job.matches(file_id, kb_id))
        running = self._running
        if running is not None and running.matches(file_id, kb_id):
            running.cancel.set()
            affected += 1
        return affected

    def queued(self) -> int:
        """Jobs waiting (not counting the one under way)."""
        return len(self._queue)

    async def idle(self) -> None:
        """Wait until every queued job has finished (for benchmarks and tests)."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._running is not None:
            self._running.cancel.set()  # its parsing child is killed within 50 ms
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # A job still embedding finishes its batch or dies with the process; its attachment
        # stays in `parsing` and is redone on the next start.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        try:
            await self._in_thread(self.sandbox.warm_up)
        except Exception:  # parsing will fail file by file, with reasons; keep the worker
            log.exception("the parser process could not be started")
        while True:
            _owner, job = await self._queue.get()
            self._running = job
            try:
                await self.ingest(job.kb_id, job.file_id, job.cancel)
            except Exception:  # one bad job must not stop the worker
                log.exception("ingesting %s into %s failed", job.file_id, job.kb_id)
                await self._mark_failed(job.kb_id, job.file_id)
            finally:
                self._running = None
                self._queue.task_done()

    async def _mark_failed(self, kb_id: str, file_id: str) -> None:
        try:
            await self._catalog.set_status(kb_id, file_id, "fail", reason="internal error")
        except Exception:  # the database itself may be what failed; the next start retries
            log.exception("could not mark %s in %s as failed", file_id, kb_id)

    async def ingest(self, kb_id: str, file_id: str, cancel: threading.Event | None = None) -> None:
        """Ingest one attachment now; a detached one (or a deleted file or KB) is skipped."""
        cancel = cancel or threading.Event()
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
            parsed = await self._in_thread(
                lambda: self.sandbox.chunks(
                    data, record.filename, record.content_type, split, cancel=cancel
                )
            )
            stored = await self._in_thread(
                lambda: embed_and_index(
                    self._index,
                    self._embedder,
                    kb_id,
                    file_id,
                    record.filename,
                    parsed.chunks,
                    cancel,
                    reranker=self._reranker,
                )
            )
        except IngestionCancelled:
            log.info("ingesting %s into %s stopped: deleted or detached", file_id, kb_id)
            return
        except KnowledgeError as exc:
            await self._catalog.set_status(kb_id, file_id, "fail", reason=str(exc) or "parse error")
            return
        await self._finish(kb_id, file_id, stored)

    async def _finish(self, kb_id: str, file_id: str, chunks: int) -> None:
        online = await self._catalog.set_status(kb_id, file_id, "online", chunks=chunks)
        if not online:  # detached or deleted while we worked: drop what we indexed
            await self._in_thread(lambda: self._index.delete_file(file_id, kb_id))
            return
        log.info("indexed %s into %s: %d chunks", file_id, kb_id, chunks)

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, *args)
