"""What only the SQLite index does (bigram terms, transactions, vector shapes); the contract
every backend meets is in test_index_contract.py, which runs on SQLite and Milvus."""

from __future__ import annotations

from pathlib import Path

import apsw
import numpy as np
import pytest

from modelport.knowledge.document import Chunk
from modelport.knowledge.errors import IndexStoreError
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.keywords import match_expression, terms

DIM = 8


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


@pytest.fixture(params=[None, 1], ids=["fts5", "in-memory"])
def small(tmp_path: Path, request: pytest.FixtureRequest) -> SqliteIndex:
    """Keywords ranked by FTS5, or (from 1 chunk) by the in-memory postings large KBs get."""
    store = SqliteIndex(tmp_path / "small.sqlite3", DIM, keywords_in_memory_from=request.param)
    store.add(
        "kb-a",
        "file-1",
        "手册.docx",
        [Chunk(0, "员工每年享有十天年假"), Chunk(1, "知识库用于存放公司文档", heading="简介")],
        np.stack([unit(1, 0), unit(0, 1)]),
    )
    store.add("kb-b", "file-2", "claims.md", [Chunk(0, "报销 within 30 Days")], unit(1, 1)[None])
    return store


def test_terms_are_cjk_bigrams_and_lowercased_words() -> None:
    assert terms("知识库 Annual-Leave ＡＰＩ２") == ["知识", "识库", "annual", "leave", "api2"]
    assert terms("年") == ["年"]
    assert match_expression("年假?") == '"年假"'
    assert match_expression("？！") is None


def test_bigrams_find_two_character_words_and_subwords(small: SqliteIndex) -> None:
    [hit] = small.keyword_search(["kb-a"], "年假", 5)
    assert hit.chunk.content == "员工每年享有十天年假"
    [hit] = small.keyword_search(["kb-a"], "知识", 5)
    assert hit.chunk.content == "知识库用于存放公司文档"
    assert hit.chunk.heading == "简介" and hit.chunk.title == "手册.docx"
    [hit] = small.keyword_search(["kb-a", "kb-b"], "days 报销", 5)
    assert hit.chunk.file_id == "file-2"


def test_add_replaces_a_file_and_is_all_or_nothing(small: SqliteIndex) -> None:
    small.add("kb-a", "file-1", "手册.docx", [Chunk(0, "新版：年假十五天")], unit(1, 0)[None])
    assert [h.chunk.content for h in small.keyword_search(["kb-a"], "年假", 5)] == [
        "新版：年假十五天"
    ]
    # The second chunk violates NOT NULL mid-write: nothing of the new version may remain.
    broken = [Chunk(0, "第三版年假"), Chunk(1, None)]  # type: ignore[arg-type]
    with pytest.raises(apsw.ConstraintError):
        small.add("kb-a", "file-1", "手册.docx", broken, np.stack([unit(1, 0), unit(0, 1)]))
    assert small.count("kb-a", "file-1") == 1
    assert small.keyword_search(["kb-a"], "三版", 5) == []
    assert len(small.vector_search(["kb-a"], unit(1, 0), 5)) == 1


def test_wrong_vector_shapes_are_refused(small: SqliteIndex, tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="shape"):
        small.add("kb-a", "f", "x", [Chunk(0, "x")], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(IndexStoreError):
        small.vector_search(["kb-a"], np.ones(DIM - 1, np.float32), 3)
    small.close()
    with pytest.raises(IndexStoreError, match="dimensional"):
        SqliteIndex(tmp_path / "small.sqlite3", DIM * 2)
