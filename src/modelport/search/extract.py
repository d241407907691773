"""Search results → readable text: fetch the top pages, parse them with the knowledge
library's readers (which drop scripts, styles, navigation, forms and footers, and keep
headings as context), and keep every engine snippet as a fallback source."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..knowledge.document import Segment
from ..knowledge.errors import KnowledgeError
from ..knowledge.parse import parse_document
from .base import SearchResult
from .fetch import FetchedPage, PageFetcher
from .passages import SourceText

log = logging.getLogger("modelport.search")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def readable_segments(page: FetchedPage) -> list[Segment]:
    """The page's text by section; empty when it has none we can read."""
    is_html = page.content_type in _HTML_TYPES
    filename, content_type = ("page.html", "text/html") if is_html else ("page.txt", "text/plain")
    try:
        parsed = parse_document(page.text.encode("utf-8"), filename, content_type)
    except KnowledgeError:
        return []
    return list(parsed.segments)


async def gather_sources(
    results: Sequence[SearchResult], fetcher: PageFetcher, pages: int
) -> list[SourceText]:
    """Texts of the top `pages` results' pages, then every result's snippet."""
    urls = list(dict.fromkeys(r.url for r in results))[:pages]
    outcomes = await fetcher.fetch_all(urls)
    titles = {r.url: r.title for r in reversed(results)}
    sources: list[SourceText] = []
    for url, outcome in zip(urls, outcomes, strict=True):
        if isinstance(outcome, FetchedPage):
            segments = readable_segments(outcome)
            if segments:
                sources.append(SourceText(titles[url], url, tuple(segments)))
        else:
            log.info("search: page not used: %s", outcome)
    for result in results:
        if result.snippet:
            sources.append(SourceText(result.title, result.url, (Segment(result.snippet),)))
    return sources
