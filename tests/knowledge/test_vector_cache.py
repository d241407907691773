"""The SQLite index's in-memory vector matrices: same answers as sqlite-vec, never stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modelport.knowledge.document import Chunk
from modelport.knowledge.embed import normalise
from modelport.knowledge.index._vector_cache import VectorCache
from modelport.knowledge.index.sqlite import SqliteIndex

DIM = 16


def _fill(index: SqliteIndex, kb_id: str, count: int, seed: int) -> np.ndarray:
    vectors = normalise(np.random.default_rng(seed).standard_normal((count, DIM)).astype("f4"))
    chunks = [Chunk(i, f"chunk {i}") for i in range(count)]
    index.add(kb_id, f"file-{kb_id}", "t.txt", chunks, vectors)
    return vectors


def _ranking(index: SqliteIndex, kb_ids: list[str], query: np.ndarray) -> list[tuple[str, int]]:
    return [(h.chunk.kb_id, h.chunk.seq) for h in index.vector_search(kb_ids, query, 10)]


def test_cached_search_matches_sqlite_vec(tmp_path: Path) -> None:
    cached = SqliteIndex(tmp_path / "i.sqlite3", DIM)
    uncached = SqliteIndex(tmp_path / "i.sqlite3", DIM, cached_vectors=0)
    _fill(cached, "kb-a", 200, seed=1)
    _fill(cached, "kb-b", 50, seed=2)
    for seed in range(5):
        query = normalise(np.random.default_rng(100 + seed).standard_normal((1, DIM)).astype("f4"))
        assert _ranking(cached, ["kb-a", "kb-b"], query[0]) == _ranking(
            uncached, ["kb-a", "kb-b"], query[0]
        )
        hits = cached.vector_search(["kb-a"], query[0], 3)
        assert [round(h.score, 4) for h in hits] == sorted(
            (round(h.score, 4) for h in hits), reverse=True
        )


def test_writes_here_and_in_another_connection_are_seen(tmp_path: Path) -> None:
    reader = SqliteIndex(tmp_path / "i.sqlite3", DIM)
    vectors = _fill(reader, "kb-a", 20, seed=3)
    assert reader.vector_search(["kb-a"], vectors[5], 1)[0].chunk.seq == 5  # now cached
    writer = SqliteIndex(tmp_path / "i.sqlite3", DIM)  # another process, as far as SQLite knows
    target = normalise(np.ones((1, DIM), dtype="f4"))
    writer.add("kb-a", "file-new", "new.txt", [Chunk(0, "new")], target)
    assert reader.vector_search(["kb-a"], target[0], 1)[0].chunk.file_id == "file-new"
    reader.delete_file("file-new")
    assert reader.vector_search(["kb-a"], target[0], 1)[0].chunk.file_id != "file-new"
    writer.delete_kb("kb-a")
    assert reader.vector_search(["kb-a"], target[0], 5) == []


def test_the_cache_keeps_to_its_budget() -> None:
    cache = VectorCache(max_vectors=10)
    rows = np.zeros((6, DIM), dtype="f4")
    assert cache.put("a", np.arange(6), rows)
    assert cache.put("b", np.arange(6), rows)  # evicts "a"
    assert cache.get("a") is None and cache.get("b") is not None
    assert not cache.put("c", np.arange(11), np.zeros((11, DIM), dtype="f4"))
