"""In-memory keyword postings: FTS5's BM25 ranking and scores, never stale, only when large."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from modelport.knowledge.document import Chunk
from modelport.knowledge.index._keyword_cache import KeywordCache, KeywordIndex
from modelport.knowledge.index.base import Hit
from modelport.knowledge.index.sqlite import SqliteIndex

DIM = 4
WORDS = ["年假", "报销", "差旅", "发票", "食堂", "会议", "leave", "travel", "Receipt", "café"]
WORDS += ["invoice", "规定", "申请", "cafe", "CAFÉ", "审批"]
QUERIES = [
    "年假",
    "报销",
    "差旅报销需要什么发票",
    "年假怎么申请？年假规定",
    "travel receipt",
    "Café",
    "cafe leave 会议",
    "发票 invoice 审批 食堂 差旅",
    "nothing matches",
]


def _vectors(count: int) -> np.ndarray:
    return np.ones((count, DIM), dtype=np.float32) / 2


def _fill(index: SqliteIndex, kb_id: str, files: int, per_file: int, seed: int) -> None:
    rng = random.Random(seed)
    for f in range(files):
        chunks = []
        for seq in range(per_file):
            words = [rng.choice(WORDS) for _ in range(rng.randint(1, 14))]
            chunks.append(Chunk(seq, "，".join(words) + f" 第{f}号{seq}"))
        index.add(kb_id, f"{kb_id}-file-{f}", "t.txt", chunks, _vectors(per_file))


def _ids_by_score(hits: list[Hit], cut: float | None) -> dict[float, set[int]]:
    groups: dict[float, set[int]] = {}
    for hit in hits:
        if hit.score != cut:
            groups.setdefault(hit.score, set()).add(hit.chunk.chunk_id)
    return groups


def _ranking(index: SqliteIndex, kb_ids: list[str], query: str, limit: int) -> list[float]:
    return [h.score for h in index.keyword_search(kb_ids, query, limit)]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[SqliteIndex, SqliteIndex]:
    """One file, read by FTS5 (`keywords_in_memory_from=None`) and from memory (from 1)."""
    fts5 = SqliteIndex(tmp_path / "k.sqlite3", DIM, keywords_in_memory_from=None)
    memory = SqliteIndex(tmp_path / "k.sqlite3", DIM, keywords_in_memory_from=1)
    return fts5, memory


@pytest.mark.parametrize("query", QUERIES)
def test_one_kb_ranks_exactly_as_fts5(pair: tuple[SqliteIndex, SqliteIndex], query: str) -> None:
    fts5, memory = pair
    _fill(fts5, "kb", files=6, per_file=50, seed=1)
    for limit in (1, 5, 20, 400):
        expected = fts5.keyword_search(["kb"], query, limit)
        got = memory.keyword_search(["kb"], query, limit)
        # Same formula, same operations in the same order: the same doubles.
        assert [h.score for h in got] == [h.score for h in expected]
        # FTS5 leaves ties in any order, ours go by chunk id; where the limit cuts through
        # tied rows either may keep any of them.
        assert [h.chunk.chunk_id for h in got] == [
            h.chunk.chunk_id for h in sorted(got, key=lambda h: (-h.score, h.chunk.chunk_id))
        ]
        cut = expected[-1].score if len(expected) == limit else None
        assert _ids_by_score(got, cut) == _ids_by_score(expected, cut)
    fts5.close()
    memory.close()


def test_diacritics_and_case_fold_as_in_fts5(pair: tuple[SqliteIndex, SqliteIndex]) -> None:
    fts5, memory = pair
    fts5.add("kb", "f", "t.txt", [Chunk(0, "Café au lait"), Chunk(1, "CAFE noir")], _vectors(2))
    for query in ("cafe", "CAFÉ", "Café"):
        assert {h.chunk.seq for h in memory.keyword_search(["kb"], query, 5)} == {0, 1}
        assert _ranking(memory, ["kb"], query, 5) == _ranking(fts5, ["kb"], query, 5)


def test_changes_here_and_from_another_connection_are_seen(
    pair: tuple[SqliteIndex, SqliteIndex],
) -> None:
    writer, reader = pair
    _fill(reader, "kb", files=2, per_file=30, seed=2)
    assert reader.keyword_search(["kb"], "年假", 5)  # now built
    built = reader._keywords._cache.get("kb", 2)
    assert built is not None and built.index is not None
    reader.add("kb", "new", "n.txt", [Chunk(0, "门禁卡 门禁卡 门禁卡")], _vectors(1))
    [hit] = reader.keyword_search(["kb"], "门禁", 5)
    assert hit.chunk.file_id == "new"
    writer.add("kb", "other", "o.txt", [Chunk(0, "停车位 停车位")], _vectors(1))
    [hit] = reader.keyword_search(["kb"], "停车", 5)
    assert hit.chunk.file_id == "other"
    writer.delete_file("other")
    assert reader.keyword_search(["kb"], "停车", 5) == []
    reader.delete_file("new", kb_id="kb")
    assert reader.keyword_search(["kb"], "门禁", 5) == []
    writer.delete_kb("kb")
    assert reader.keyword_search(["kb"], "年假", 5) == []


def test_a_change_rebuilds_only_its_own_kb(pair: tuple[SqliteIndex, SqliteIndex]) -> None:
    _, memory = pair
    _fill(memory, "kb-a", files=1, per_file=20, seed=3)
    _fill(memory, "kb-b", files=1, per_file=20, seed=4)
    memory.keyword_search(["kb-a", "kb-b"], "报销", 5)
    before = memory._keywords._cache.get("kb-a", 1)
    memory.add("kb-b", "more", "m.txt", [Chunk(0, "报销")], _vectors(1))
    memory.keyword_search(["kb-a", "kb-b"], "报销", 5)
    assert memory._keywords._cache.get("kb-a", 1) is before
    assert memory._keywords._cache.get("kb-b", 2) is not None


def test_in_memory_once_the_file_is_large_whatever_the_kb(tmp_path: Path) -> None:
    index = SqliteIndex(tmp_path / "k.sqlite3", DIM, keywords_in_memory_from=100)
    other = SqliteIndex(tmp_path / "k.sqlite3", DIM)  # another process, as far as SQLite knows
    _fill(index, "kb-small", files=1, per_file=20, seed=6)
    assert index.keyword_search(["kb-small"], "报销", 5)
    assert index._keywords._cache.get("kb-small", 1) is None  # 20 chunks in the file: FTS5
    _fill(other, "kb-large", files=2, per_file=50, seed=5)
    fts5 = index.keyword_search(["kb-small"], "差旅 报销", 400)
    # 120 chunks in the file: FTS5 would score kb-large's matches too, so kb-small is ranked
    # in memory as well, by its own statistics (FTS5's count the whole file's rows).
    small = index.keyword_search(["kb-small"], "差旅 报销", 400)
    entry = index._keywords._cache.get("kb-small", 1)
    assert entry is not None and entry.index is not None and len(entry.index) == 20
    assert {h.chunk.chunk_id for h in small} == {h.chunk.chunk_id for h in fts5}
    other.delete_kb("kb-large")
    index.keyword_search(["kb-small"], "差旅 报销", 400)
    assert index._keywords._cache.get("kb-small", 1) is None  # small again: back to FTS5
    index.close()
    other.close()


def test_kbs_over_the_budget_stay_in_fts5_merged_by_score(tmp_path: Path) -> None:
    index = SqliteIndex(
        tmp_path / "k.sqlite3", DIM, keywords_in_memory_from=100, cached_keyword_chunks=100
    )
    _fill(index, "kb-large", files=3, per_file=50, seed=5)
    _fill(index, "kb-small", files=1, per_file=20, seed=6)
    hits = index.keyword_search(["kb-large", "kb-small"], "差旅 报销", 400)
    assert {h.chunk.kb_id for h in hits} == {"kb-large", "kb-small"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    large = index._keywords._cache.get("kb-large", 3)
    small = index._keywords._cache.get("kb-small", 1)
    assert large is not None and large.index is None and large.chunks == 150
    assert small is not None and small.index is not None and len(small.index) == 20
    # Each knowledge base alone is ranked as before, whichever path serves it.
    for kb_id in ("kb-large", "kb-small"):
        alone = index.keyword_search([kb_id], "差旅 报销", 400)
        assert [h.chunk.chunk_id for h in hits if h.chunk.kb_id == kb_id] == [
            h.chunk.chunk_id for h in alone
        ]
    index.close()


def test_postings_by_hand() -> None:
    index = KeywordIndex.build([10, 11, 12], ["a b a", "café cafe", ""], _lower_ascii)
    assert index.vocabulary.keys() == {"a", "b", "cafe"}
    lengths = [3, 2, 0]  # café and cafe are both "cafe"; the average length is 5 / 3
    assert index.norms.tolist() == [1.2 * (1 - 0.75 + 0.75 * n / (5 / 3)) for n in lengths]
    [(chunk, score)] = index.search(["a"], 5)
    assert chunk == 10  # a: 2 of 3 rows have no a -> idf log(2.5 / 1.5)
    assert score == pytest.approx(np.log(2.5 / 1.5) * (2 * 2.2) / (2 + index.norms[0]))
    assert [c for c, _ in index.search(["cafe", "b"], 5)] == [11, 10]
    assert index.search(["zzz"], 5) == [] and index.search(["a"], 0) == []
    assert KeywordIndex.build([], [], _lower_ascii).search(["a"], 3) == []


def _lower_ascii(term: str) -> list[str]:
    return [term.replace("é", "e")]


def test_the_cache_keeps_to_its_budget_and_threshold() -> None:
    cache = KeywordCache(max_chunks=10, in_memory_from=5)
    assert not cache.serves(4) and cache.serves(5) and cache.serves(11)
    index = KeywordIndex.build(list(range(6)), ["a"] * 6, _lower_ascii)
    cache.put("a", 1, 6, index)
    cache.put("huge", 1, 20, None)
    cache.put("b", 1, 6, index)  # evicts "a", not the entry that holds no index
    assert cache.get("a", 1) is None and cache.get("b", 1) is not None
    assert cache.get("huge", 1) is not None and cache.get("b", 2) is None
    assert not cache.serves(4) and cache.get("b", 1) is None  # a small file: all dropped
    assert not KeywordCache(10, None).serves(10**6)


def test_terms_folding_to_no_token_or_several() -> None:
    def fold(term: str) -> list[str]:  # "x" vanishes, "ab" becomes a and b
        return [] if term == "x" else list(term) if term == "ab" else [term]

    # Document 0's double space is not what document_terms writes: the slower split copes.
    index = KeywordIndex.build([1, 2, 3], ["ab  x c", "a a", "x"], fold)
    assert index.vocabulary.keys() == {"a", "b", "c"}
    assert index.norms.tolist() == [1.2 * (1 - 0.75 + 0.75 * n / (5 / 3)) for n in (3, 2, 0)]
    assert [c for c, _ in index.search(["a"], 5)] == [2, 1]
    assert [c for c, _ in index.search(["b"], 5)] == [1] and index.search(["x"], 5) == []
