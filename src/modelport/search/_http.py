"""HTTP plumbing the search adapters share: one JSON call, every failure as a `SearchError`."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from .base import SearchError, SearchResult, SearchTimeout

_ERROR_BODY_CHARS = 300
log = logging.getLogger("modelport.search")


async def call_json(
    http: httpx.AsyncClient,
    engine: str,
    method: str,
    url: str,
    *,
    timeout: float,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """The decoded JSON body of a 2xx answer; anything else raises `SearchError`."""
    try:
        response = await http.request(
            method, url, params=params, headers=headers, json=body, timeout=timeout
        )
    except httpx.TimeoutException as exc:
        raise SearchTimeout(f"{engine} did not answer within {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise SearchError(f"{engine} is unreachable: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        # The body may name keys or quotas: the operator reads it in the log, not the client.
        log.warning("%s answered HTTP %s: %s", engine, response.status_code, _error_text(response))
        raise SearchError(f"{engine} answered HTTP {response.status_code}")
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SearchError(f"{engine} answered a body that is not JSON") from exc


def _error_text(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:_ERROR_BODY_CHARS] or "(empty body)"


def results_from(
    engine: str, items: Any, *, title: str, url: str, snippet: str, count: int
) -> list[SearchResult]:
    """Results from a JSON list of objects, keeping http(s) links only, at most `count`."""
    if not isinstance(items, list):
        raise SearchError(f"{engine} answered JSON without a result list")
    out: list[SearchResult] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get(url)
        if not isinstance(link, str) or not link.lower().startswith(("http://", "https://")):
            continue
        out.append(
            SearchResult(
                title=_text(item.get(title)) or link,
                url=link,
                snippet=_text(item.get(snippet)),
            )
        )
        if len(out) >= count:
            break
    return out


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
