"""Search provider name → adapter class, imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

import httpx

from ..settings import SearchSettings
from .base import SearchProvider

BUILTIN_SEARCH_PROVIDERS: dict[str, str] = {
    "searxng": "modelport.search.searxng:SearxNGSearch",
    "bing": "modelport.search.bing:BingSearch",
    "tavily": "modelport.search.tavily:TavilySearch",
}


def build_search_provider(
    settings: SearchSettings, http: httpx.AsyncClient
) -> SearchProvider | None:
    """The configured provider, or None when search is off; a bad config raises ValueError."""
    if not settings.provider:
        return None
    target = BUILTIN_SEARCH_PROVIDERS.get(settings.provider)
    if target is None:
        known = ", ".join(sorted(BUILTIN_SEARCH_PROVIDERS))
        raise ValueError(f"unknown search.provider '{settings.provider}' (known: {known})")
    module_name, _, class_name = target.partition(":")
    cls: Any = getattr(importlib.import_module(module_name), class_name)
    provider: SearchProvider = cls(settings, http)
    return provider
