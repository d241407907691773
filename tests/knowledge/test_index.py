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


@pytest.fixture
def small(tmp_path: Path) -> SqliteIndex:
    store = SqliteIndex(tmp_path / "small.sqlite3", DIM)
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


def test_searches_are_scoped_to_the_given_knowledge_bases(small: SqliteIndex) -> None:
    assert small.keyword_search(["kb-b"], "年假", 5) == []
    assert small.keyword_search([], "年假", 5) == []
    hits = small.vector_search(["kb-a", "kb-b"], unit(1, 0.1), 3)
    assert [h.chunk.file_id for h in hits] == ["file-1", "file-2", "file-1"]
    assert hits[0].score == pytest.approx(float(unit(1, 0.1) @ unit(1, 0)), abs=1e-5)
    assert [h.chunk.seq for h in small.vector_search(["kb-a"], unit(1, 0.1), 1)] == [0]
    assert {h.chunk.kb_id for h in small.vector_search(["kb-b"], unit(1, 0), 5)} == {"kb-b"}


def test_delete_file_and_kb_remove_chunks_everywhere(small: SqliteIndex) -> None:
    small.add("kb-b", "file-1", "手册.docx", [Chunk(0, "年假十天")], unit(1, 0)[None])
    assert small.delete_file("file-1", kb_id="kb-a") == 2
    assert small.count("kb-a") == 0 and small.count("kb-b", "file-1") == 1
    assert small.keyword_search(["kb-a"], "年假", 5) == []
    assert small.delete_file("file-1") == 1
    assert small.keyword_search(["kb-b"], "年假", 5) == []
    assert small.delete_kb("kb-b") == 1
    assert small.count("kb-b") == 0
    assert small.vector_search(["kb-a", "kb-b"], unit(1, 1), 5) == []


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


def test_index_survives_reopening(small: SqliteIndex, tmp_path: Path) -> None:
    small.close()
    reopened = SqliteIndex(tmp_path / "small.sqlite3", DIM)
    assert reopened.count("kb-a") == 2
    assert reopened.keyword_search(["kb-a"], "年假", 1)[0].chunk.seq == 0
    reopened.close()
