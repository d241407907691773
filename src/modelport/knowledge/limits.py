"""Bounds on what parsing one file may cost, so a small hostile file cannot take hours.

A 2.4 KB DOCX can expand to a megabyte of XML, and a 9.6 KB PDF whose 50 pages share one
content stream to 12 M characters (about 27,000 chunks to embed): the size of the upload says
nothing about the work, so the work itself is capped.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseLimitExceeded


@dataclass(frozen=True, slots=True)
class ParseLimits:
    seconds: float = 60.0  # wall clock for parsing and chunking, in a child process
    max_chars: int = 3_000_000  # extracted characters (a 1,000-page book is about 2.5 M)
    max_chunks: int = 10_000  # chunks to embed (about half an hour on one core)

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.max_chars < 1 or self.max_chunks < 1:
            raise ValueError("parse limits must be positive")


class CharBudget:
    """Counts extracted characters as a parser goes, failing as soon as the cap is passed
    (before the rest of a 12 M-character PDF is even extracted)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def take(self, characters: int) -> None:
        self.used += characters
        if self.limit is not None and self.used > self.limit:
            raise too_many_chars(self.limit)


def too_many_chars(limit: int) -> ParseLimitExceeded:
    return ParseLimitExceeded(f"parse limit: more than {limit:,} characters")


def too_many_chunks(limit: int) -> ParseLimitExceeded:
    return ParseLimitExceeded(f"parse limit: more than {limit:,} chunks")


def too_slow(seconds: float) -> ParseLimitExceeded:
    return ParseLimitExceeded(f"parse limit: parsing took longer than {seconds:g} s")
