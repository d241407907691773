"""Web search for grounding answers: providers (SearxNG, Bing, Tavily), a guarded page
fetcher, readable-text extraction and passage selection. Knows nothing of chat."""

from .base import SearchError, SearchProvider, SearchResult, SearchTimeout
from .extract import gather_sources, readable_segments
from .fetch import FetchedPage, PageFetcher
from .guard import AddressPolicy, FetchFailed, FetchRefused
from .passages import PassageLimits, SourceText, WebPassage, select_passages
from .registry import build_search_provider

__all__ = [
    "AddressPolicy",
    "FetchFailed",
    "FetchRefused",
    "FetchedPage",
    "PageFetcher",
    "PassageLimits",
    "SearchError",
    "SearchProvider",
    "SearchResult",
    "SearchTimeout",
    "SourceText",
    "WebPassage",
    "build_search_provider",
    "gather_sources",
    "readable_segments",
    "select_passages",
]
