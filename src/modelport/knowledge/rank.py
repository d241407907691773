"""Ranking the candidates of a hybrid search: language-balanced vectors, keywords, a floor.

multilingual-e5-small scores any passage in the query's language above the right passage in
the other language, so cosine ranks alone bury cross-lingual answers. Each candidate's
cosine is therefore measured against the candidates of its own script (CJK or not): the
z-score of its cosine among the `background` best of that script. The right passage stands
out from its script's crowd whatever the language; a passage that only shares the query's
language does not. Keyword evidence is added as the share of the query's distinct terms the
passage holds, weighted by `keyword_weight`; a passage holding a code of the query (E-4027)
ranks above those that do not, found by vectors or not, so a strong single-method hit is not
diluted by rank fusion. Each method's top hit is kept in the top-k.

The relevance floor is absolute: a passage's `relevance` is its cosine shifted by the
offset of its (query script, passage script) pair in `SCRIPT_OFFSETS`, or 1.0 when it holds
a code of the query (a number of three or more digits that is not a year, as in E-4027).
e5's cosines are not comparable across those pairs: on bench/kb_bilingual_eval.py, right
passages scored from 0.806 (English → English), 0.757 (English → Chinese), 0.767
(Chinese → English) and 0.894 (Chinese → Chinese), unrelated questions' best passages up
to 0.81, 0.777, 0.776 and 0.853; the offsets bring both to one scale around 0.80.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .index.base import Hit, StoredChunk
from .keywords import query_terms, terms

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LATIN = re.compile(r"[^\W\d_]", re.ASCII)
CODE_BONUS = 10.0  # above any z-score: a passage holding the query's code ranks first
# (query is CJK, passage is CJK) -> added to the cosine to give the relevance
SCRIPT_OFFSETS: dict[tuple[bool, bool], float] = {
    (False, False): 0.0,
    (False, True): 0.04,
    (True, False): 0.02,
    (True, True): -0.07,
}


@dataclass(frozen=True, slots=True)
class Ranked:
    chunk: StoredChunk
    score: float  # the ranking score (calibrated vector z-score plus keyword evidence)
    relevance: float  # the absolute signal the floor compares with, in [0, 1]


def is_cjk(text: str) -> bool:
    """Whether `text` is mostly CJK (a CJK character weighs about three Latin letters)."""
    cjk = len(_CJK.findall(text))
    return cjk > 0 and 3 * cjk >= len(_LATIN.findall(text))


def is_code(term: str) -> bool:
    """A number of three or more digits that is not a year (1990–2099): 4027 of E-4027."""
    return term.isdigit() and len(term) >= 3 and not (len(term) == 4 and 1990 <= int(term) < 2100)


def keyword_share(query: str, chunk: StoredChunk) -> tuple[float, bool]:
    """The share of the query's distinct terms found in the chunk, and whether one of them
    is a code (which then counts as the whole query)."""
    wanted = query_terms(query)
    if not wanted:
        return 0.0, False
    held = set(terms(f"{chunk.heading or ''}\n{chunk.content}"))
    found = [t for t in wanted if t in held]
    if any(is_code(t) for t in found):
        return 1.0, True
    return len(found) / len(wanted), False


MIN_GROUP = 3  # fewer candidates of a script than this say nothing about its crowd


def calibrated(hits: Sequence[Hit], background: int, query_cjk: bool = False) -> dict[int, float]:
    """Each hit's cosine as a z-score among the `background` best hits of its script. A script
    with fewer than `MIN_GROUP` candidates (a small knowledge base, or one document in the
    other language) has no crowd to stand out from: its hits are measured against all hits
    instead, their cosines shifted by `SCRIPT_OFFSETS` onto one scale."""
    scripts = {h.chunk.chunk_id: is_cjk(h.chunk.content) for h in hits}
    return _calibrated(hits, scripts, background, query_cjk)


def _calibrated(
    hits: Sequence[Hit], scripts: dict[int, bool], background: int, query_cjk: bool
) -> dict[int, float]:
    groups: dict[bool, list[float]] = {}
    for hit in hits:
        groups.setdefault(scripts[hit.chunk.chunk_id], []).append(hit.score)
    stats = {
        script: _mean_spread(scores, background)
        for script, scores in groups.items()
        if len(scores) >= MIN_GROUP
    }
    shifted = {
        h.chunk.chunk_id: h.score + SCRIPT_OFFSETS[(query_cjk, scripts[h.chunk.chunk_id])]
        for h in hits
    }
    pooled = _mean_spread(list(shifted.values()), background) if hits else (0.0, 1.0)
    out: dict[int, float] = {}
    for hit in hits:
        key = hit.chunk.chunk_id
        own = stats.get(scripts[key])
        if own is not None:
            out[key] = (hit.score - own[0]) / own[1]
        else:
            out[key] = (shifted[key] - pooled[0]) / pooled[1]
    return out


def _mean_spread(scores: Sequence[float], background: int) -> tuple[float, float]:
    """Mean and population standard deviation (at least 1e-3) of the `background` best."""
    best = heapq.nlargest(background, scores)
    mean = math.fsum(best) / len(best)
    spread = math.sqrt(math.fsum((s - mean) ** 2 for s in best) / len(best))
    return mean, max(spread, 1e-3)


def rank(
    query: str,
    by_vector: Sequence[Hit],
    by_keyword: Sequence[Hit],
    *,
    background: int = 20,
    keyword_weight: float = 2.0,
    keep_top: int = 5,
) -> list[Ranked]:
    """Candidates best first; each method's top hit is kept within the first `keep_top`."""
    if not by_vector and not by_keyword:
        return []
    query_cjk = is_cjk(query)
    chunks = {h.chunk.chunk_id: h.chunk for h in [*by_vector, *by_keyword]}
    scripts = {key: is_cjk(chunk.content) for key, chunk in chunks.items()}
    z = _calibrated(by_vector, scripts, background, query_cjk)
    cosine = {h.chunk.chunk_id: h.score for h in by_vector}
    floor_z = min(z.values(), default=0.0)
    floor_cos = min(cosine.values(), default=0.0)
    shares = {h.chunk.chunk_id: keyword_share(query, h.chunk) for h in by_keyword}
    ranked: list[Ranked] = []
    for key, chunk in chunks.items():
        share, code = shares.get(key, (0.0, False))
        score = z.get(key, floor_z) + keyword_weight * share + (CODE_BONUS if code else 0.0)
        offset = SCRIPT_OFFSETS[(query_cjk, scripts[key])]
        relevance = 1.0 if code else cosine.get(key, floor_cos) + offset
        ranked.append(Ranked(chunk, score, max(0.0, min(1.0, relevance))))
    # Ties keep document order so results are stable.
    ranked.sort(key=lambda r: (-r.score, r.chunk.file_id, r.chunk.seq))
    tops = [max(by_vector, key=lambda h: z[h.chunk.chunk_id]).chunk.chunk_id] if z else []
    if by_keyword and shares[by_keyword[0].chunk.chunk_id][0] > 0:
        tops.append(by_keyword[0].chunk.chunk_id)
    return keep_within(ranked, tops, keep_top)


def keep_within(ranked: list[Ranked], keys: Sequence[int], limit: int) -> list[Ranked]:
    """`ranked` with the chunks of `keys` that ranked below `limit` moved up to the last
    places within it."""
    late = {r.chunk.chunk_id for r in ranked[limit:]} & set(keys)
    if not late or len(late) >= limit:  # no room left for the fused ranking's best
        return ranked
    lifted = [r for r in ranked if r.chunk.chunk_id in late]
    rest = [r for r in ranked if r.chunk.chunk_id not in late]
    head = limit - len(lifted)
    return rest[:head] + lifted + rest[head:]
