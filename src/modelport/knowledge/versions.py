"""Newer versions first: near-duplicate passages of differently dated documents.

A passage's year is the latest year (1990–2099) named in its file name, heading or text
("remote-policy-2024.md", "（2024年版）", "effective 2024-03-01"): a revision usually names
the edition it replaces, so the latest year is its own. Two retrieved passages of different
files are near-duplicates when their term sets (keywords.terms: words, CJK bigrams) overlap
by `similarity` or more (Jaccard). Of such a pair the older one is superseded and moves
below every passage that is not, unless the query names a year: then the passage of that
year wins and the others of its group are superseded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from .keywords import terms

_YEAR = re.compile(r"(?<!\d)(?:19[9]\d|20\d\d)(?!\d)")
NEAR_DUPLICATE = 0.5

T = TypeVar("T")


def years(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text)]


def passage_year(title: str, heading: str | None, content: str) -> int | None:
    found = years(f"{title}\n{heading or ''}\n{content}")
    return max(found) if found else None


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the two texts' term sets."""
    left, right = set(terms(a)), set(terms(b))
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def prefer_current(
    query: str,
    items: Sequence[T],
    *,
    file_of: Callable[[T], str],
    text_of: Callable[[T], str],
    year_of: Callable[[T], int | None],
    threshold: float = NEAR_DUPLICATE,
    window: int = 20,
) -> list[T]:
    """`items` (best first) with superseded versions moved after the others.

    Only the first `window` items are compared (pairs of items cost a term-set overlap each).
    """
    wanted = set(years(query))
    head = list(items[:window])
    dated = [(item, year_of(item)) for item in head]
    superseded: set[int] = set()
    for i, (a, year_a) in enumerate(dated):
        for j in range(i + 1, len(dated)):
            b, year_b = dated[j]
            if year_a is None or year_b is None or year_a == year_b:
                continue
            if file_of(a) == file_of(b) or similarity(text_of(a), text_of(b)) < threshold:
                continue
            superseded.add(_loser(i, year_a, j, year_b, wanted))
    if not superseded:
        return list(items)
    kept = [item for n, item in enumerate(head) if n not in superseded]
    dropped = [item for n, item in enumerate(head) if n in superseded]
    return kept + dropped + list(items[window:])


def _loser(i: int, year_i: int, j: int, year_j: int, wanted: set[int]) -> int:
    if year_i in wanted and year_j not in wanted:
        return j
    if year_j in wanted and year_i not in wanted:
        return i
    return i if year_i < year_j else j
