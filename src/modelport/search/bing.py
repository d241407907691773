"""Bing Web Search API v7: `GET /v7.0/search`, keyed by `Ocp-Apim-Subscription-Key`.

Web pages come in `webPages.value[]` as `{name, url, snippet}`. Options passed through:
mkt, setLang, safeSearch, freshness.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..settings import SearchSettings
from ._http import call_json, results_from
from .base import SearchError, SearchResult

DEFAULT_BASE_URL = "https://api.bing.microsoft.com"
_PASSED_OPTIONS = ("mkt", "setLang", "safeSearch", "freshness")
_MAX_COUNT = 50  # Bing's limit per request


class BingSearch:
    name = "bing"

    def __init__(self, settings: SearchSettings, http: httpx.AsyncClient) -> None:
        if settings.api_key is None:
            raise ValueError("search.provider 'bing' needs search.api_key (a subscription key)")
        self._key = settings.api_key.get_secret_value()
        self._url = (settings.base_url or DEFAULT_BASE_URL).rstrip("/") + "/v7.0/search"
        self._timeout = settings.timeout
        self._options = {k: v for k, v in settings.options.items() if k in _PASSED_OPTIONS}
        self._http = http

    async def search(self, query: str, count: int) -> list[SearchResult]:
        params: dict[str, Any] = {
            "q": query,
            "count": min(count, _MAX_COUNT),
            "responseFilter": "Webpages",
            "textFormat": "Raw",
            "textDecorations": "false",
            **self._options,
        }
        data = await call_json(
            self._http,
            "Bing",
            "GET",
            self._url,
            timeout=self._timeout,
            params=params,
            headers={"Ocp-Apim-Subscription-Key": self._key},
        )
        if not isinstance(data, dict):
            raise SearchError("Bing answered JSON that is not an object")
        pages = data.get("webPages")
        if pages is None:  # Bing leaves the answer out when nothing matched
            return []
        if not isinstance(pages, dict):
            raise SearchError("Bing answered a `webPages` that is not an object")
        return results_from(
            "Bing", pages.get("value"), title="name", url="url", snippet="snippet", count=count
        )
