"""SearxNG through its JSON API: `GET {base_url}/search?q=…&format=json`.

The instance must list `json` under `search.formats` in its `settings.yml`; otherwise it
answers 403, which we report as such. Options passed through: categories, engines,
language, safesearch, time_range.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..settings import SearchSettings
from ._http import call_json, results_from
from .base import SearchError, SearchResult

_PASSED_OPTIONS = ("categories", "engines", "language", "safesearch", "time_range")


class SearxNGSearch:
    name = "searxng"

    def __init__(self, settings: SearchSettings, http: httpx.AsyncClient) -> None:
        if not settings.base_url:
            raise ValueError("search.provider 'searxng' needs search.base_url (the instance)")
        self._url = settings.base_url.rstrip("/") + "/search"
        self._timeout = settings.timeout
        self._options = {k: v for k, v in settings.options.items() if k in _PASSED_OPTIONS}
        self._http = http

    async def search(self, query: str, count: int) -> list[SearchResult]:
        params: dict[str, Any] = {"q": query, "format": "json", **self._options}
        try:
            data = await call_json(
                self._http, "SearxNG", "GET", self._url, timeout=self._timeout, params=params
            )
        except SearchError as exc:
            if "HTTP 403" in str(exc):
                raise SearchError(
                    "SearxNG refused the JSON format (HTTP 403): add `json` to "
                    "search.formats in the instance's settings.yml"
                ) from exc
            raise
        if not isinstance(data, dict):
            raise SearchError("SearxNG answered JSON that is not an object")
        return results_from(
            "SearxNG",
            data.get("results"),
            title="title",
            url="url",
            snippet="content",
            count=count,
        )
