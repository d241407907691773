"""In-memory BM25 over a large knowledge base's keyword terms: FTS5's ranking, not its cost.

FTS5's `bm25()` runs once per matching row, and a common bigram (报销) matches a third of a
generated 100k-chunk knowledge base: 9-13 ms per query (bench/kb_bench.py). Here each term's
postings are numpy arrays (sorted rows and term frequencies), so a query scores only its own
terms' postings in a few vectorised operations.

The formula, constants and order of operations are FTS5's (fts5_aux.c: k1 = 1.2, b = 0.75,
an IDF of log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, one phrase per query term), and
documents are the very token strings FTS5 indexed, folded by FTS5's own tokenizer; the one
difference is that N, n and the average length are counted in the knowledge base, where FTS5
counts the whole table (every knowledge base in the file). With a single knowledge base the
scores are the same to the last bit (tests/knowledge/test_keyword_cache.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING

from ...lazy_numpy import np

if TYPE_CHECKING:
    from numpy.typing import NDArray

K1 = 1.2  # FTS5's bm25() defaults
B = 0.75
# Chunks in the whole file: FTS5 scores every match in its table, whichever knowledge base
# it belongs to, so a 50-chunk knowledge base next to a 100k-chunk one took 20-40 ms (the
# other's rows crowd its own out, then a join ranks them again). Below this, ~1 ms.
IN_MEMORY_FROM = 20_000
DEFAULT_CACHED_CHUNKS = 500_000  # ~150 MB: 100k generated chunks held 30 MB (peak 130 MB building)
_BLOCK = 8192  # documents split into terms at a time while building
Fold = Callable[[str], list[str]]  # one stored term -> the tokens FTS5 indexed it as


@dataclass(frozen=True, slots=True)
class KeywordIndex:
    """Postings of one knowledge base: term t's rows are rows[offsets[t] : offsets[t + 1]]."""

    ids: NDArray[np.int64]  # chunk id of each row
    vocabulary: dict[str, int]
    offsets: NDArray[np.int64]
    rows: NDArray[np.int32]
    frequencies: NDArray[np.int32]
    norms: NDArray[np.float64]  # k1 * (1 - b + b * length / average length), per row

    @classmethod
    def build(cls, ids: Sequence[int], documents: Sequence[str], fold: Fold) -> KeywordIndex:
        """Index `documents[i]` (space-separated stored terms) as chunk `ids[i]`."""
        count = len(documents)
        distinct, term_ids, lengths = _stored_terms(documents)
        rows = np.repeat(np.arange(count, dtype=np.int64), lengths)
        # Each stored term is folded once (FTS5's unicode61 folds case and Latin diacritics:
        # café and cafe are one token); a term may fold to no token or, in principle, several.
        vocabulary: dict[str, int] = {}
        folded = [[vocabulary.setdefault(t, len(vocabulary)) for t in fold(w)] for w in distinct]
        per_term = np.fromiter(map(len, folded), np.int64, len(folded))
        flat = np.fromiter(chain.from_iterable(folded), np.int64, int(per_term.sum()))
        if (per_term == 1).all():  # the usual case: one token per stored term
            tokens = flat[term_ids]
        else:
            counts = per_term[term_ids]
            within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            first = (np.cumsum(per_term) - per_term)[term_ids]
            tokens = flat[np.repeat(first, counts) + within]
            rows = np.repeat(rows, counts)
        doc_lengths = np.bincount(rows, minlength=count).astype(np.float64)
        average = float(doc_lengths.sum()) / count if count else 1.0
        # (token, row) pairs as one key, sorted by token then row; repeats are the term
        # frequency. Intermediates go as soon as they are used: each is 8 bytes an occurrence.
        width = max(count, 1)
        tokens *= width
        tokens += rows
        del term_ids, rows
        pairs, frequencies = np.unique(tokens, return_counts=True)
        del tokens
        offsets = np.searchsorted(pairs, np.arange(len(vocabulary) + 1, dtype=np.int64) * width)
        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            vocabulary=vocabulary,
            offsets=offsets,
            rows=(pairs % width).astype(np.int32),
            frequencies=frequencies.astype(np.int32),
            # FTS5's k1 * (1 - b + b * D / avgdl), same operations in the same order.
            norms=K1 * (1 - B + B * doc_lengths / (average or 1.0)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, tokens: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """The `limit` best rows for a query of `tokens` (one phrase each, duplicates count),
        as (chunk id, BM25 score, higher is better), best first, ties by chunk id."""
        count = len(self.ids)
        if limit <= 0 or not count:
            return []
        scores = np.zeros(count, dtype=np.float64)
        for token in tokens:
            term = self.vocabulary.get(token)
            if term is None:
                continue
            start, end = int(self.offsets[term]), int(self.offsets[term + 1])
            rows = self.rows[start:end]
            frequencies = self.frequencies[start:end]
            hits = end - start
            idf = math.log((count - hits + 0.5) / (hits + 0.5))
            idf = idf if idf > 0.0 else 1e-6
            # A term's rows are distinct, so fancy-index += adds once per row.
            scores[rows] += idf * ((frequencies * (K1 + 1.0)) / (frequencies + self.norms[rows]))
        matched = np.flatnonzero(scores > 0.0)  # every match: the IDF floor is above 0
        found = scores[matched]
        if len(matched) > limit:
            # Not np.partition: on 28k matches holding two distinct scores (ties are common)
            # it took 3 ms, numpy's vectorised sort 0.1 ms.
            kth = np.sort(found)[-limit]
            keep = found >= kth  # rows tied with the limit-th stay, for the tie-break below
            matched, found = matched[keep], found[keep]
        order = np.lexsort((self.ids[matched], -found))[:limit]
        return [(int(self.ids[matched[i]]), float(found[i])) for i in order]


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    chunks: int
    index: KeywordIndex | None  # None: below the threshold (or over budget), FTS5 ranks it


class KeywordCache:
    """Each knowledge base's index at a version, or None when it is over the budget.

    Indexes hold at most `max_chunks` rows in all, the least recently built going first.
    `in_memory_from` is the file size (chunks, None = never) from which they are used.
    """

    def __init__(self, max_chunks: int, in_memory_from: int | None = IN_MEMORY_FROM) -> None:
        self.max_chunks = max_chunks
        self._from = in_memory_from
        self._kbs: dict[str, _Entry] = {}
        self._chunks = 0
        self._file: tuple[int, int] | None = None  # (data_version, chunks in the file)

    def serves(self, file_chunks: int) -> bool:
        """Whether a file of `file_chunks` rows ranks keywords here rather than in FTS5."""
        if self._from is None or file_chunks < self._from:
            self.clear()  # nothing here will be asked for until the file grows again
            return False
        return True

    def file_chunks(self, data_version: int) -> int | None:
        """The file's size as last counted, if nothing has been written since."""
        return self._file[1] if self._file and self._file[0] == data_version else None

    def counted(self, data_version: int, chunks: int) -> None:
        self._file = (data_version, chunks)

    def get(self, kb_id: str, version: int) -> _Entry | None:
        entry = self._kbs.get(kb_id)
        return entry if entry is not None and entry.version == version else None

    def put(self, kb_id: str, version: int, chunks: int, index: KeywordIndex | None) -> None:
        self._drop(kb_id)
        if index is not None:
            while self._chunks + len(index) > self.max_chunks:
                oldest = next((k for k, e in self._kbs.items() if e.index is not None), None)
                if oldest is None:
                    break
                self._drop(oldest)
            self._chunks += len(index)
        self._kbs[kb_id] = _Entry(version, chunks, index)

    def clear(self) -> None:
        self._kbs.clear()
        self._chunks = 0

    def _drop(self, kb_id: str) -> None:
        entry = self._kbs.pop(kb_id, None)
        if entry is not None and entry.index is not None:
            self._chunks -= len(entry.index)


def _stored_terms(
    documents: Sequence[str],
) -> tuple[list[str], NDArray[np.int64], NDArray[np.int64]]:
    """The distinct stored terms, each term occurrence's index among them, in document
    order, and how many terms each document has."""
    # A block of documents at a time: a Python string per occurrence of every document at
    # once peaked at 330 MB for 100k chunks.
    position: dict[str, int] = {}
    ids: list[NDArray[np.int64]] = []
    lengths: list[NDArray[np.int64]] = []
    for start in range(0, len(documents), _BLOCK):
        words, block_lengths = _words(documents[start : start + _BLOCK])
        for word in dict.fromkeys(words):
            position.setdefault(word, len(position))
        ids.append(np.fromiter(map(position.__getitem__, words), np.int64, len(words)))
        lengths.append(block_lengths)
    empty = np.zeros(0, dtype=np.int64)
    return (
        list(position),
        np.concatenate(ids) if ids else empty,
        np.concatenate(lengths) if lengths else empty,
    )


def _words(documents: Sequence[str]) -> tuple[list[str], NDArray[np.int64]]:
    """All documents' terms in order, and how many each document has."""
    # One split of everything is twice as fast as one per document; the lengths come from
    # counting spaces, which is exact for the single-space strings `document_terms` writes
    # (and never too few: so if the totals agree, every document's count is right).
    words = " ".join(documents).split()
    lengths = np.fromiter(
        (d.count(" ") + 1 if d else 0 for d in documents), np.int64, len(documents)
    )
    if int(lengths.sum()) != len(words):
        split = [document.split() for document in documents]
        words = list(chain.from_iterable(split))
        lengths = np.fromiter(map(len, split), np.int64, len(split))
    return words, lengths
