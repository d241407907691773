"""Issue 17, item 3: the ingestion worker takes owners in turn, and a deleted file's job
stops (queued: dropped; running: stopped, nothing left in the index, nothing to resume)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from modelport.knowledge.blobs import BlobStore
from modelport.knowledge.catalog import KnowledgeCatalog
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.service import KnowledgeService
from modelport.storage.db import Database

DIMENSION = 384


class SlowEmbedder:
    """Unit vectors after a pause per text; remembers which files' text it saw, in order."""

    def __init__(self, pause: float) -> None:
        self.pause = pause  # seconds per text
        self.seen: list[str] = []
        self.gate = threading.Event()
        self.gate.set()

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.gate.wait(30)
        self.seen.extend(text.split()[0] for text in texts)
        time.sleep(self.pause * len(texts))
        vectors = np.ones((len(texts), DIMENSION), dtype=np.float32)
        return vectors / np.sqrt(DIMENSION)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'modelport.db'}")
    await database.migrate()
    yield database
    await database.dispose()


async def _service(db: Database, tmp_path: Path, embedder: SlowEmbedder) -> KnowledgeService:
    index = SqliteIndex(tmp_path / "kb.sqlite3", DIMENSION)
    service = KnowledgeService(KnowledgeCatalog(db), BlobStore(tmp_path / "files"), index, embedder)
    await service.start()
    return service


async def _file(service: KnowledgeService, owner: str, name: str, sentences: int) -> str:
    """A text file whose every chunk starts with `name`."""
    text = "\n\n".join(f"{name} says sentence {n} of its story." for n in range(sentences))
    record = await service.upload(
        owner, f"{name}.txt", "text/plain", "knowledge-base", text.encode()
    )
    return record.id


async def _kb(service: KnowledgeService, owner: str) -> str:
    kb = await service.create_kb(
        owner, "kb", "", "fixed", chunk_max_len=40, chunk_overlap_len=0, separators=None
    )
    return kb.id


async def _wait(condition: object, timeout: float = 10) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_owners_take_turns(db: Database, tmp_path: Path) -> None:
    embedder = SlowEmbedder(pause=0.02)
    service = await _service(db, tmp_path, embedder)
    try:
        embedder.gate.clear()  # hold the first job until everything is queued
        busy_kb, other_kb = await _kb(service, "busy"), await _kb(service, "other")
        backlog = [await _file(service, "busy", f"busy{n}", 3) for n in range(4)]
        await service.attach("busy", busy_kb, backlog)
        await _wait(lambda: service.worker.queued() == 3)
        await service.attach("other", other_kb, [await _file(service, "other", "other", 3)])
        embedder.gate.set()
        await asyncio.wait_for(service.worker.idle(), 30)
        files = list(dict.fromkeys(embedder.seen))
        assert files == ["busy0", "other", "busy1", "busy2", "busy3"]
    finally:
        await service.aclose()


async def test_a_queued_job_of_a_deleted_file_is_dropped(db: Database, tmp_path: Path) -> None:
    embedder = SlowEmbedder(pause=0.0)
    service = await _service(db, tmp_path, embedder)
    try:
        embedder.gate.clear()
        kb_id = await _kb(service, "me")
        first, second = (
            await _file(service, "me", "first", 2),
            await _file(service, "me", "second", 2),
        )
        await service.attach("me", kb_id, [first, second])
        await _wait(lambda: service.worker.queued() == 1)
        await service.delete_file("me", second)
        assert service.worker.queued() == 0
        embedder.gate.set()
        await asyncio.wait_for(service.worker.idle(), 10)
        assert "second" not in embedder.seen
        assert await service.catalog.pending() == []
    finally:
        await service.aclose()


@pytest.mark.parametrize("how", ["delete file", "detach", "delete kb"])
async def test_a_running_job_stops_and_leaves_nothing(
    db: Database, tmp_path: Path, how: str
) -> None:
    embedder = SlowEmbedder(pause=0.0125)  # 200 chunks: 2.5 s, in batches of 0.2 s
    service = await _service(db, tmp_path, embedder)
    try:
        kb_id = await _kb(service, "me")
        big = await _file(service, "me", "big", 200)
        await service.attach("me", kb_id, [big])
        await _wait(lambda: len(embedder.seen) > 0)
        if how == "delete file":
            await service.delete_file("me", big)
        elif how == "detach":
            await service.detach("me", kb_id, [big])
        else:
            await service.delete_kb("me", kb_id)
        stopped = time.monotonic()
        await asyncio.wait_for(service.worker.idle(), 10)
        assert time.monotonic() - stopped < 0.8  # one batch, not the remaining dozen
        assert len(embedder.seen) < 100
        assert service.index.delete_file(big) == 0  # nothing was written
        assert await service.catalog.pending() == []  # nothing for a restart to resume
    finally:
        await service.aclose()
