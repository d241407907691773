"""Ranking rules (issue 21): strong single-method hits, language balance, the floor, versions."""

from __future__ import annotations

from modelport.knowledge.index.base import Hit, StoredChunk
from modelport.knowledge.rank import is_cjk, keep_within, rank
from modelport.knowledge.retrieve import fuse
from modelport.knowledge.versions import passage_year, prefer_current

_ids = iter(range(1, 10_000))


def hit(content: str, score: float, file_id: str = "f", title: str = "t.txt") -> Hit:
    n = next(_ids)
    return Hit(StoredChunk(n, "kb", file_id, title, n, content, None, None), score)


def test_a_keyword_only_code_hit_ranks_first() -> None:
    e4017 = hit("Error E-4017 means the paper feed sensor of the printer is blocked.", 0.91)
    e4027 = hit("Error E-4027 indicates the toner cartridge chip cannot be read.", 0.0)
    others = [
        hit(f"Printer note {n}: clean the rollers monthly.", 0.85 - n / 100) for n in range(8)
    ]
    query = "What does printer error E-4027 indicate?"
    by_keyword = [e4027, e4017]  # keywords put E-4027 first; vectors never saw it
    ranked = rank(query, [e4017, *others], by_keyword)
    assert ranked[0].chunk == e4027.chunk
    assert ranked[0].relevance == 1.0  # holds the query's code
    # Reciprocal-rank fusion put it behind the chunk both methods found.
    fused = fuse([[e4017, *others], by_keyword])
    assert fused[0][0] == e4017.chunk


def test_vectors_are_balanced_across_languages() -> None:
    # e5 gives every Chinese passage a higher cosine than the English answer...
    chinese = [
        hit(f"公司食堂第{n}条规定：午餐供应到下午一点半。", 0.85 - n / 1000) for n in range(10)
    ]
    answer = hit("Staff park on levels B1 and B2; visitors use level B3.", 0.80, file_id="park")
    english = [hit(f"Rule {n}: the canteen and the budget follow policy.", 0.70) for n in range(9)]
    ranked = rank("访客车辆停在哪一层", [*chinese, answer, *english], [])
    # ...but it stands out among the English passages, and ranks first.
    assert ranked[0].chunk == answer.chunk
    assert is_cjk(chinese[0].chunk.content) and not is_cjk(answer.chunk.content)
    assert not is_cjk("Fault F-210 (故障) on the fan") and is_cjk("故障码 F-210 表示风扇停转")


def test_the_floor_uses_the_script_adjusted_cosine() -> None:
    zh = hit("黑洞是由大质量恒星坍缩形成的天体。", 0.85)
    en = hit("A black hole forms when a massive star collapses.", 0.80)
    by_chunk = {r.chunk.chunk_id: r.relevance for r in rank("黑洞是怎么形成的", [zh, en], [])}
    # Chinese → Chinese cosines run high (-0.07), Chinese → English low (+0.02).
    assert round(by_chunk[zh.chunk.chunk_id], 3) == 0.78
    assert round(by_chunk[en.chunk.chunk_id], 3) == 0.82


def test_each_methods_top_hit_is_kept_in_the_top_k() -> None:
    ranked = rank("alpha", [hit(f"text {n}", 0.9 - n / 100) for n in range(8)], [])
    ids = [r.chunk.chunk_id for r in ranked]
    lifted = keep_within(ranked, [ids[7]], 3)
    assert [r.chunk.chunk_id for r in lifted][:3] == [ids[0], ids[1], ids[7]]
    assert keep_within(ranked, [ids[7]], 1) == ranked  # no room: the fused best stays


def test_newer_near_duplicates_win_unless_the_question_names_a_year() -> None:
    old = hit(
        "Hotel rooms are reimbursed up to 180 US dollars per night.",
        0.9,
        "old",
        "expense-policy-2022.docx",
    )
    new = hit(
        "Hotel rooms are reimbursed up to 220 US dollars per night.",
        0.9,
        "new",
        "expense-policy-2024.docx",
    )
    other = hit("Parking costs 0.25 euros per kWh.", 0.5, "parking", "parking.txt")
    ranked = [old, other, new]

    def order(query: str) -> list[str]:
        kept = prefer_current(
            query,
            ranked,
            file_of=lambda h: h.chunk.file_id,
            text_of=lambda h: h.chunk.content,
            year_of=lambda h: passage_year(h.chunk.title, h.chunk.heading, h.chunk.content),
        )
        return [h.chunk.file_id for h in kept]

    assert order("How much can I spend on a hotel?") == [
        "parking",
        "new",
        "old",
    ]
    assert order("What was the hotel limit in 2022?") == ["old", "parking", "new"]
    assert passage_year("差旅管理办法（2024年版）.md", None, "自2024年3月1日起施行") == 2024
    assert passage_year("a.txt", None, "热线 400-820-1234，effective 2022-01-01") == 2022
    assert passage_year("a.txt", "Hotels", "no date") is None
