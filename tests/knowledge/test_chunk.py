from __future__ import annotations

import pytest

from modelport.knowledge.chunk import SplitConfig, chunk_segments, split_text
from modelport.knowledge.document import Segment
from modelport.knowledge.errors import InvalidSplitConfig


@pytest.mark.parametrize(("max_len", "overlap"), [(513, 10), (0, 0), (100, 50), (10, 5), (100, -1)])
def test_split_config_enforces_baichuan_limits(max_len: int, overlap: int) -> None:
    with pytest.raises(InvalidSplitConfig):
        SplitConfig(chunk_max_len=max_len, chunk_overlap_len=overlap)


def test_limits_at_the_boundary_are_accepted() -> None:
    assert SplitConfig(chunk_max_len=512, chunk_overlap_len=255).chunk_overlap_len == 255


def test_chinese_breaks_at_sentence_punctuation() -> None:
    text = (
        "员工每年享有十天年假。年假需提前两周申请！报销怎么办？出差后三十天内提交；逾期不予受理。"
    )
    chunks = split_text(text, SplitConfig(chunk_max_len=20, chunk_overlap_len=0))
    assert chunks == [
        "员工每年享有十天年假。",
        "年假需提前两周申请！报销怎么办？",
        "出差后三十天内提交；逾期不予受理。",
    ]


def test_latin_breaks_at_sentence_ends_and_overlaps() -> None:
    text = "Staff get ten days. Claims take thirty days. Hotels cost less. Meals are paid."
    chunks = split_text(text, SplitConfig(chunk_max_len=40, chunk_overlap_len=12))
    # Each later chunk opens with up to 12 characters of the one before, cut at a word.
    assert chunks == [
        "Staff get ten days.",
        "ten days. Claims take thirty days.",
        "days. Hotels cost less. Meals are paid.",
    ]


def test_long_text_without_separators_is_cut_with_overlap() -> None:
    text = "知" * 100
    chunks = split_text(text, SplitConfig(chunk_max_len=30, chunk_overlap_len=5))
    assert all(len(c) <= 30 for c in chunks)
    assert sum(len(c) for c in chunks) - 5 * (len(chunks) - 1) == 100


def test_chunks_keep_page_and_heading_and_never_span_segments() -> None:
    segments = [
        Segment("第一页的内容。" * 5, page=1, heading="总则"),
        Segment("Second page text.", page=2, heading="总则 > Scope"),
    ]
    chunks = chunk_segments(segments, SplitConfig(chunk_max_len=20, chunk_overlap_len=3))
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert {(c.page, c.heading) for c in chunks[:-1]} == {(1, "总则")}
    assert (chunks[-1].page, chunks[-1].heading, chunks[-1].text) == (
        2,
        "总则 > Scope",
        "Second page text.",
    )
    assert chunks[-1].search_text == "总则 > Scope\nSecond page text."
