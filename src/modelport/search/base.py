"""What every web search provider takes and gives: a query in, ranked results out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One hit as the engine ranks it: the page's title, its address and the engine's snippet."""

    title: str
    url: str
    snippet: str


class SearchError(Exception):
    """The search engine could not answer: unreachable, an error status, or a body we can't read."""


class SearchTimeout(SearchError):
    """The search engine did not answer within the configured time."""


class SearchProvider(Protocol):
    """A web search engine behind one method; adapters live one per file in `search/`."""

    name: str

    async def search(self, query: str, count: int) -> list[SearchResult]:
        """The engine's top `count` results (fewer if it has fewer); raises `SearchError`."""
        ...
