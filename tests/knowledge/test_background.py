"""Ingestion yields the CPU to requests: its thread runs at a lower priority than the server's."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from modelport.knowledge.background import NICENESS, lower_this_thread
from modelport.storage.db import Database
from tests.knowledge.test_ingestion_worker import SlowEmbedder, _file, _kb, _service, _wait, db

__all__ = ["db"]


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class PriorityEmbedder(SlowEmbedder):
    """Notes the scheduling priority of the thread that embeds."""

    def __init__(self) -> None:
        super().__init__(pause=0.0)
        self.niceness: list[int] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.niceness.append(_niceness())
        return super().embed_passages(texts)


def test_only_the_calling_thread_is_lowered() -> None:
    before = _niceness()
    seen: list[int] = []
    worker = threading.Thread(target=lambda: (lower_this_thread(), seen.append(_niceness())))
    worker.start()
    worker.join()
    assert seen == [max(before, NICENESS)]
    assert _niceness() == before  # this thread, like the event loop's, is untouched


async def test_files_are_embedded_at_a_lower_priority(db: Database, tmp_path: Path) -> None:
    embedder = PriorityEmbedder()
    service = await _service(db, tmp_path, embedder)
    try:
        kb_id = await _kb(service, "o")
        file_id = await _file(service, "o", "alpha", 3)
        await service.attach("o", kb_id, [file_id])
        await _wait(lambda: bool(embedder.niceness))
        assert min(embedder.niceness) >= NICENESS > _niceness()
    finally:
        await service.aclose()
