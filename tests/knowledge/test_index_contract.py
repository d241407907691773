"""The `Index` contract, run on both backends: SQLite (default) and Milvus (milvus-lite here).

SQLite runs it twice: as small knowledge bases get it (FTS5 ranks keywords) and with every
knowledge base on the in-memory keyword postings that large ones get ("sqlite-memory").

Keyword matching differs by design: SQLite indexes CJK text as overlapping bigrams made in
our code, Milvus segments it with jieba (search mode). Where they differ the tests say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import pytest

from modelport.knowledge.document import Chunk
from modelport.knowledge.errors import IndexStoreError
from modelport.knowledge.index.base import Index
from modelport.knowledge.index.sqlite import SqliteIndex

DIM = 8
BACKENDS = ["sqlite", "sqlite-memory", "milvus"]
Opener = Callable[[int], Index]


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def open_backend(backend: str, path: Path, dimension: int) -> Index:
    if backend == "sqlite":
        return SqliteIndex(path / "index.sqlite3", dimension, keywords_in_memory_from=None)
    if backend == "sqlite-memory":
        return SqliteIndex(path / "index.sqlite3", dimension, keywords_in_memory_from=1)
    from modelport.knowledge.index.milvus import MilvusIndex

    return MilvusIndex(str(path / "milvus.db"), dimension)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def opener(backend: str, tmp_path: Path) -> Opener:
    """Opens the backend's store in this test's directory (the same one every time)."""
    return lambda dimension: open_backend(backend, tmp_path, dimension)


@pytest.fixture
def small(opener: Opener) -> Iterator[Index]:
    store = opener(DIM)
    store.add(
        "kb-a",
        "file-1",
        "手册.docx",
        [Chunk(0, "员工每年享有十天年假"), Chunk(1, "知识库用于存放公司文档", heading="简介")],
        np.stack([unit(1, 0), unit(0, 1)]),
    )
    store.add("kb-b", "file-2", "claims.md", [Chunk(0, "报销 within 30 Days")], unit(1, 1)[None])
    yield store
    store.close()


def contents(hits: list[Any]) -> list[str]:
    return [hit.chunk.content for hit in hits]


def test_two_character_words_and_subwords_are_found(small: Index) -> None:
    [hit] = small.keyword_search(["kb-a"], "年假", 5)
    assert hit.chunk.content == "员工每年享有十天年假"
    # jieba's search mode emits 知识 inside 知识库, as the bigrams do.
    [hit] = small.keyword_search(["kb-a"], "知识", 5)
    assert hit.chunk.content == "知识库用于存放公司文档"
    assert hit.chunk.heading == "简介" and hit.chunk.title == "手册.docx"
    assert hit.chunk.kb_id == "kb-a" and hit.chunk.file_id == "file-1" and hit.chunk.seq == 1
    [hit] = small.keyword_search(["kb-a", "kb-b"], "DAYS 报销", 5)
    assert hit.chunk.file_id == "file-2"
    assert contents(small.keyword_search(["kb-a"], "员工有几天年假？", 5)) == [
        "员工每年享有十天年假"
    ]


def test_headings_are_searchable_with_their_chunk(small: Index) -> None:
    assert contents(small.keyword_search(["kb-a"], "简介", 5)) == ["知识库用于存放公司文档"]


def test_what_each_tokenizer_cannot_match(small: Index, backend: str) -> None:
    # 识库 and 天年 are character pairs inside the text but not words: the bigram index
    # matches them, jieba does not. A lone 库 is neither a bigram nor a jieba token.
    expected = {"sqlite": 1, "sqlite-memory": 1, "milvus": 0}[backend]
    assert len(small.keyword_search(["kb-a"], "识库", 5)) == expected
    assert len(small.keyword_search(["kb-a"], "天年", 5)) == expected
    assert small.keyword_search(["kb-a"], "库", 5) == []


def test_keyword_hits_are_ranked_best_first(small: Index) -> None:
    small.add(
        "kb-c",
        "file-3",
        "leave.md",
        [Chunk(0, "年假 年假 年假 规定"), Chunk(1, "年假"), Chunk(2, "食堂开放时间")],
        np.stack([unit(1), unit(1), unit(1)]),
    )
    hits = small.keyword_search(["kb-c"], "年假规定", 5)
    assert [h.chunk.seq for h in hits] == [0, 1]
    assert hits[0].score > hits[1].score  # higher is better, whatever the engine's sign


def test_searches_are_scoped_to_the_given_knowledge_bases(small: Index) -> None:
    assert small.keyword_search(["kb-b"], "年假", 5) == []
    assert small.keyword_search([], "年假", 5) == []
    assert small.keyword_search(["kb-a"], "？！", 5) == []
    hits = small.vector_search(["kb-a", "kb-b"], unit(1, 0.1), 3)
    assert [h.chunk.file_id for h in hits] == ["file-1", "file-2", "file-1"]
    assert hits[0].score == pytest.approx(float(unit(1, 0.1) @ unit(1, 0)), abs=1e-5)
    assert [h.chunk.seq for h in small.vector_search(["kb-a"], unit(1, 0.1), 1)] == [0]
    assert {h.chunk.kb_id for h in small.vector_search(["kb-b"], unit(1, 0), 5)} == {"kb-b"}
    assert small.vector_search(["kb-a"], unit(1, 0), 0) == []


def test_delete_file_and_kb_remove_chunks_everywhere(small: Index) -> None:
    small.add("kb-b", "file-1", "手册.docx", [Chunk(0, "年假十天")], unit(1, 0)[None])
    assert small.delete_file("file-1", kb_id="kb-a") == 2
    assert small.count("kb-a") == 0 and small.count("kb-b", "file-1") == 1
    assert small.keyword_search(["kb-a"], "年假", 5) == []
    assert small.delete_file("file-1") == 1
    assert small.keyword_search(["kb-b"], "年假", 5) == []
    assert small.delete_kb("kb-b") == 1
    assert small.count("kb-b") == 0
    assert small.vector_search(["kb-a", "kb-b"], unit(1, 1), 5) == []
    assert small.delete_kb("kb-b") == 0


def test_add_replaces_a_files_chunks(small: Index) -> None:
    assert small.add(
        "kb-a", "file-1", "手册.docx", [Chunk(0, "新版：年假十五天")], unit(1, 0)[None]
    )
    assert contents(small.keyword_search(["kb-a"], "年假", 5)) == ["新版：年假十五天"]
    assert small.count("kb-a", "file-1") == 1 and small.count("kb-b") == 1
    assert len(small.vector_search(["kb-a"], unit(0, 1), 5)) == 1


def test_a_failed_add_leaves_the_old_version(
    small: Index, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [Chunk(0, "第三版年假"), Chunk(1, "第三版报销")]
    failure: type[BaseException]
    if backend.startswith("sqlite"):
        chunks[1] = Chunk(1, None)  # type: ignore[arg-type]  # violates NOT NULL mid-write
        failure = apsw.ConstraintError
    else:  # the first insert request lands, the second fails: the first must be removed
        from modelport.knowledge.index import milvus

        monkeypatch.setattr(milvus, "_BATCH_ROWS", 1)
        client = small._client  # type: ignore[attr-defined]
        insert, calls = client.insert, []

        def flaky_insert(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                raise ConnectionError("milvus went away")
            return insert(*args, **kwargs)

        monkeypatch.setattr(client, "insert", flaky_insert)
        failure = ConnectionError
    with pytest.raises(failure):
        small.add("kb-a", "file-1", "手册.docx", chunks, np.stack([unit(1, 0), unit(0, 1)]))
    assert small.count("kb-a", "file-1") == 2
    assert small.keyword_search(["kb-a"], "三版", 5) == []
    assert contents(small.keyword_search(["kb-a"], "年假", 5)) == ["员工每年享有十天年假"]
    assert len(small.vector_search(["kb-a"], unit(1, 0), 5)) == 2


def test_wrong_vector_shapes_and_dimensions_are_refused(small: Index, opener: Opener) -> None:
    with pytest.raises(IndexStoreError, match="shape"):
        small.add("kb-a", "f", "x", [Chunk(0, "x")], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(IndexStoreError):
        small.vector_search(["kb-a"], np.ones(DIM - 1, np.float32), 3)
    small.close()
    with pytest.raises(IndexStoreError, match="dimensional"):
        opener(DIM * 2)


def test_index_survives_reopening(small: Index, opener: Opener) -> None:
    small.close()
    reopened = opener(DIM)
    try:
        assert reopened.count("kb-a") == 2
        assert reopened.keyword_search(["kb-a"], "年假", 1)[0].chunk.seq == 0
        assert reopened.vector_search(["kb-b"], unit(1, 1), 1)[0].chunk.file_id == "file-2"
    finally:
        reopened.close()
