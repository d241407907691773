"""Keyword search ranks in FTS5 alone, then filters by knowledge base: same answers as a join."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from modelport.knowledge.document import Chunk
from modelport.knowledge.index._chunk_rows import CHUNK_COLUMNS as _CHUNK_COLUMNS
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.keywords import match_expression

DIM = 4
WORDS = ["年假", "报销", "差旅", "发票", "leave", "travel", "receipt", "invoice", "食堂", "会议"]


def _reference(index: SqliteIndex, kb_ids: list[str], query: str, limit: int) -> list[int]:
    """The chunk ids the straightforward query (join first, then rank) returns."""
    marks = ", ".join("?" for _ in kb_ids)
    sql = (
        f"SELECT {_CHUNK_COLUMNS}, bm25(chunk_terms) AS score"
        " FROM chunk_terms JOIN chunks AS c ON c.id = chunk_terms.rowid"
        f" WHERE chunk_terms MATCH ? AND c.kb_id IN ({marks}) ORDER BY score, c.id LIMIT ?"
    )
    rows = index._db.execute(sql, (match_expression(query), *kb_ids, limit))
    return [int(row[0]) for row in rows]


def _fill(index: SqliteIndex, kb_id: str, count: int, rng: random.Random) -> None:
    chunks = []
    for seq in range(count):
        # Varied lengths and repeats give distinct BM25 scores, so rankings have no ties.
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 12))]
        chunks.append(Chunk(seq, "，".join(words) + f" 编号{kb_id}{seq}"))
    vectors = np.full((count, DIM), 0.5, dtype=np.float32)
    index.add(kb_id, f"file-{kb_id}", "t.txt", chunks, vectors)


@pytest.mark.parametrize("query", ["年假", "报销 差旅", "travel receipt", "发票 会议 leave"])
def test_rankings_match_the_joined_query(tmp_path: Path, query: str) -> None:
    index = SqliteIndex(tmp_path / "k.sqlite3", DIM)
    rng = random.Random(7)
    _fill(index, "kb-big", 300, rng)
    _fill(index, "kb-small", 40, rng)
    for kb_ids in (["kb-big"], ["kb-small"], ["kb-big", "kb-small"]):
        for limit in (1, 5, 20):
            hits = index.keyword_search(kb_ids, query, limit)
            assert [h.chunk.chunk_id for h in hits] == _reference(index, kb_ids, query, limit)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    index.close()


def test_a_small_kb_is_not_crowded_out_by_a_large_one(tmp_path: Path) -> None:
    index = SqliteIndex(tmp_path / "k.sqlite3", DIM)
    strong = [Chunk(i, "年假 年假 年假") for i in range(200)]
    index.add("kb-big", "file-big", "big.txt", strong, np.ones((200, DIM), dtype=np.float32))
    weak = [Chunk(0, "年假之外，还有很多很多别的内容写在这一段里面")]
    index.add("kb-small", "file-small", "s.txt", weak, np.ones((1, DIM), dtype=np.float32))
    [hit] = index.keyword_search(["kb-small"], "年假", 5)
    assert hit.chunk.file_id == "file-small"
    hits = index.keyword_search(["kb-small", "kb-big"], "年假", 300)
    assert len(hits) == 201 and hits[-1].chunk.file_id == "file-small"
    index.close()
