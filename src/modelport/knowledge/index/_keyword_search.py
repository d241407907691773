"""Keyword searches of the SQLite index, on a connection of their own: FTS5 or in-memory.

Small files rank with FTS5's `bm25()`. FTS5 scores every match in its table, whichever
knowledge base it belongs to, so past IN_MEMORY_FROM chunks in the file each searched
knowledge base is ranked from in-memory postings of the same terms (`_keyword_cache.py`),
rebuilt when the `kb_versions` row its writers bump says it changed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import cast

import apsw

from ..keywords import match_expression, query_terms
from ._chunk_rows import CHUNK_COLUMNS, load, scalar, stored
from ._keyword_cache import KeywordCache, KeywordIndex
from .base import Hit

TOKENIZER = "unicode61"  # the FTS5 table's, also folding the terms of in-memory postings
_PLAIN = re.compile("[a-z0-9]+|[\u4e00-\u9fff]+")  # terms unicode61 does not change
_RANKED_TERMS = (
    "SELECT rowid, bm25(chunk_terms) AS score FROM chunk_terms"
    " WHERE chunk_terms MATCH ? ORDER BY score LIMIT ?"
)
_RANKED_TERMS_IN_KBS = (
    f"SELECT {CHUNK_COLUMNS}, bm25(chunk_terms) AS score"
    " FROM chunk_terms JOIN chunks AS c ON c.id = chunk_terms.rowid"
    " WHERE chunk_terms MATCH ? AND c.kb_id IN ({marks})"
    " ORDER BY score LIMIT ?"
)
_KEYWORD_OVERFETCH = 4  # rows ranked per wanted hit before falling back to the join
_KB_TERMS = (
    "SELECT c.id, t.terms FROM chunks AS c"
    " JOIN chunk_terms AS t ON t.rowid = c.id WHERE c.kb_id = ?"
)


class KeywordSearch:
    """`Index.keyword_search` over connection `db`, one search at a time.

    In files of `in_memory_from` chunks or more (None: never), knowledge bases are ranked
    from in-memory postings, up to `cached_chunks` chunks of them in all.
    """

    def __init__(self, db: apsw.Connection, in_memory_from: int | None, cached_chunks: int):
        self._db = db
        self._lock = threading.Lock()
        self._tokenizer = db.fts5_tokenizer(TOKENIZER)
        self._cache = KeywordCache(cached_chunks, in_memory_from)

    def search(self, kb_ids: Sequence[str], query: str, limit: int) -> list[Hit]:
        expression = match_expression(query)
        if limit <= 0 or not kb_ids or expression is None:
            return []
        with self._lock, self._db:  # one read transaction: one snapshot
            tokens = self._query_tokens(query) if self._large_file() else None
            in_memory: list[KeywordIndex] = []
            rest: list[str] = []
            for kb_id in dict.fromkeys(kb_ids):
                index = None if tokens is None else self._index(kb_id)
                if index is None:
                    rest.append(kb_id)
                else:
                    in_memory.append(index)
            hits = self._fts5_search(rest, expression, limit) if rest else []
            if in_memory and tokens is not None:
                ranked = [pair for index in in_memory for pair in index.search(tokens, limit)]
                ranked = sorted(ranked, key=lambda pair: (-pair[1], pair[0]))[:limit]
                chunks = load(self._db, [cid for cid, _ in ranked])
                hits += [Hit(chunks[cid], score) for cid, score in ranked if cid in chunks]
                if rest:  # over the budget, so FTS5's: one order all the same
                    hits.sort(key=lambda hit: (-hit.score, hit.chunk.chunk_id))
        return hits[:limit]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _large_file(self) -> bool:
        """Whether the file is large enough for in-memory postings (counted after writes)."""
        version = scalar(self._db, "PRAGMA data_version")
        chunks = self._cache.file_chunks(version)
        if chunks is None:  # written since the last count, here or in another process
            chunks = scalar(self._db, "SELECT count(*) FROM chunks")
            self._cache.counted(version, chunks)
        return self._cache.serves(chunks)

    def _query_tokens(self, query: str) -> list[str] | None:
        """The query's terms as FTS5 tokenizes them; None if one became a multi-token phrase
        (which only FTS5 can match; our terms are letters or digits, so none should)."""
        tokens: list[str] = []
        for term in query_terms(query):
            folded = self._fold(term)
            if len(folded) > 1:
                return None
            tokens += folded
        return tokens

    def _fold(self, term: str) -> list[str]:
        if _PLAIN.fullmatch(term):  # unicode61 leaves these as they are; skip the call
            return [term]
        # Without offsets and colocated tokens, apsw returns the tokens as plain strings.
        tokens = self._tokenizer(
            term.encode(),
            apsw.FTS5_TOKENIZE_DOCUMENT,
            None,
            include_offsets=False,
            include_colocated=False,
        )
        return cast(list[str], tokens)

    def _index(self, kb_id: str) -> KeywordIndex | None:
        """The knowledge base's postings as of this snapshot; None: over the budget.

        Built on the first search after a change: its cost falls on that one query.
        """
        version = scalar(self._db, "SELECT version FROM kb_versions WHERE kb_id = ?", (kb_id,))
        entry = self._cache.get(kb_id, version)
        if entry is not None:
            return entry.index
        chunks = scalar(self._db, "SELECT count(*) FROM chunks WHERE kb_id = ?", (kb_id,))
        index = None
        if chunks <= self._cache.max_chunks:
            rows = list(self._db.execute(_KB_TERMS, (kb_id,)))
            ids, documents = [int(r[0]) for r in rows], [str(r[1]) for r in rows]
            index = KeywordIndex.build(ids, documents, self._fold)
        self._cache.put(kb_id, version, chunks, index)
        return index

    def _fts5_search(self, kb_ids: Sequence[str], expression: str, limit: int) -> list[Hit]:
        wanted = set(kb_ids)
        # BM25 must score every matching row; joining each to `chunks` for its KB first
        # measured half again as slow. So rank in FTS5 alone, then keep the wanted KBs'
        # rows: exact whenever enough of them remain or FTS5 had no more rows to give.
        fetch = limit * _KEYWORD_OVERFETCH
        ranked = list(self._db.execute(_RANKED_TERMS, (expression, fetch)))
        chunks = load(self._db, [int(row[0]) for row in ranked])
        hits = [
            Hit(chunks[cid], -float(score))  # bm25() is lower-is-better: negate it
            for cid, score in ranked
            if cid in chunks and chunks[cid].kb_id in wanted
        ]
        if len(hits) < limit and len(ranked) == fetch:  # other KBs crowded them out
            marks = ", ".join("?" for _ in kb_ids)
            rows = self._db.execute(
                _RANKED_TERMS_IN_KBS.format(marks=marks), (expression, *kb_ids, limit)
            )
            hits = [Hit(stored(row[:8]), -float(row[8])) for row in rows]
        return hits[:limit]
