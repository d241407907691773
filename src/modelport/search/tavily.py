"""Tavily: `POST /search` with a JSON body, keyed by `Authorization: Bearer tvly-…`.

Results come in `results[]` as `{title, url, content, score}`. Options passed through:
search_depth (default "basic"), topic, time_range, include_domains, exclude_domains.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..settings import SearchSettings
from ._http import call_json, results_from
from .base import SearchError, SearchResult

DEFAULT_BASE_URL = "https://api.tavily.com"
_PASSED_OPTIONS = ("search_depth", "topic", "time_range", "include_domains", "exclude_domains")
_MAX_COUNT = 20  # Tavily's limit for max_results


class TavilySearch:
    name = "tavily"

    def __init__(self, settings: SearchSettings, http: httpx.AsyncClient) -> None:
        if settings.api_key is None:
            raise ValueError("search.provider 'tavily' needs search.api_key (tvly-…)")
        self._key = settings.api_key.get_secret_value()
        self._url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/") + "/search"
        self._timeout = settings.timeout
        self._options = {k: v for k, v in settings.options.items() if k in _PASSED_OPTIONS}
        self._http = http

    async def search(self, query: str, count: int) -> list[SearchResult]:
        body: dict[str, Any] = {
            "query": query,
            "max_results": min(count, _MAX_COUNT),
            "search_depth": "basic",
            "include_answer": False,
            "include_raw_content": False,
            **self._options,
        }
        data = await call_json(
            self._http,
            "Tavily",
            "POST",
            self._url,
            timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._key}"},
            body=body,
        )
        if not isinstance(data, dict):
            raise SearchError("Tavily answered JSON that is not an object")
        return results_from(
            "Tavily", data.get("results"), title="title", url="url", snippet="content", count=count
        )
