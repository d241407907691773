"""The search adapters against fakes that speak each API's request and response shapes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from modelport.search import SearchError, SearchProvider, SearchTimeout, build_search_provider
from modelport.settings import SearchSettings
from tests.fakes.server import serve_asgi
from tests.search.conftest import FakeWeb
from tests.search.fakes import DATA

BING_KEY = "bing-test-key"
TAVILY_KEY = "tvly-test-key"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(scope="module")
def vendor() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """One fake for Bing (`GET /v7.0/search`) and Tavily (`POST /search`); logs requests."""
    seen: list[dict[str, Any]] = []

    async def fault(query: str) -> Response | None:
        if "unauthorised" in query:
            body = {"error": {"code": "401", "message": "Access denied: invalid key."}}
            return JSONResponse(body, status_code=401)
        if "garbled" in query:
            return PlainTextResponse("<html>gateway</html>")
        if "stall" in query:
            await asyncio.sleep(2)
        return None

    async def bing(request: Request) -> Response:
        seen.append({"headers": dict(request.headers), "params": dict(request.query_params)})
        failed = await fault(request.query_params.get("q", ""))
        return failed or JSONResponse(json.loads((DATA / "bing.json").read_text()))

    async def tavily(request: Request) -> Response:
        body = await request.json()
        seen.append({"headers": dict(request.headers), "body": body})
        failed = await fault(body.get("query", ""))
        return failed or JSONResponse(json.loads((DATA / "tavily.json").read_text()))

    app = Starlette(
        routes=[Route("/v7.0/search", bing), Route("/search", tavily, methods=["POST"])]
    )
    with serve_asgi(app) as url:
        yield url, seen


def provider(http: httpx.AsyncClient, **settings: Any) -> SearchProvider:
    built = build_search_provider(SearchSettings(timeout=1.0, **settings), http)
    assert built is not None
    return built


async def test_searxng_reads_the_json_api(web: FakeWeb, http: httpx.AsyncClient) -> None:
    searxng = provider(
        http, provider="searxng", base_url=web.searxng_url, options={"language": "en"}
    )
    results = await searxng.search("When did the Kestrel Ridge Observatory open?", 2)
    assert [r.title for r in results] == [
        "Kestrel Ridge Observatory — History | Highland Gazette",
        "How the Vireo mirror was made - Optics Weekly",
    ]
    assert results[0].url == web.pages_url + "/gazette/observatory.html"
    assert "visiting hours" in results[0].snippet
    assert web.state.queries == ["When did the Kestrel Ridge Observatory open?"]


async def test_searxng_failures_are_search_errors(web: FakeWeb, http: httpx.AsyncClient) -> None:
    searxng = provider(http, provider="searxng", base_url=web.searxng_url)
    with pytest.raises(SearchError, match="HTTP 500"):
        await searxng.search("explode", 3)
    with pytest.raises(SearchTimeout):
        await searxng.search("stall", 3)
    off = provider(http, provider="searxng", base_url=web.searxng_url + "/nothing-here")
    with pytest.raises(SearchError, match="HTTP 404"):
        await off.search("anything", 3)


async def test_bing_sends_its_key_and_keeps_web_links(
    vendor: tuple[str, list[dict[str, Any]]], http: httpx.AsyncClient
) -> None:
    url, seen = vendor
    bing = provider(http, provider="bing", base_url=url, api_key=BING_KEY, options={"mkt": "en-GB"})
    results = await bing.search("Kestrel Ridge Observatory", 5)
    assert [r.url for r in results] == [
        "https://gazette.example/observatory.html",
        "https://optics.example/mirror.html",
    ]
    assert results[0].title == "Kestrel Ridge Observatory — History"
    assert results[1].snippet == "Polishing the Vireo mirror took nineteen months."
    request = seen[-1]
    assert request["headers"]["ocp-apim-subscription-key"] == BING_KEY
    assert request["params"]["q"] == "Kestrel Ridge Observatory"
    assert request["params"]["count"] == "5" and request["params"]["mkt"] == "en-GB"
    with pytest.raises(SearchError, match="HTTP 401"):
        await bing.search("unauthorised", 5)
    with pytest.raises(SearchError, match="not JSON"):
        await bing.search("garbled", 5)


async def test_tavily_posts_json_with_a_bearer_key(
    vendor: tuple[str, list[dict[str, Any]]], http: httpx.AsyncClient
) -> None:
    url, seen = vendor
    tavily = provider(http, provider="tavily", base_url=url, api_key=TAVILY_KEY)
    results = await tavily.search("Kestrel Ridge Observatory", 1)
    assert len(results) == 1
    assert results[0].snippet.startswith("The Kestrel Ridge Observatory opened")
    request = seen[-1]
    assert request["headers"]["authorization"] == f"Bearer {TAVILY_KEY}"
    assert request["body"]["query"] == "Kestrel Ridge Observatory"
    assert request["body"]["max_results"] == 1
    with pytest.raises(SearchTimeout):
        await tavily.search("stall", 1)


def test_configuration_errors_are_reported(http: httpx.AsyncClient) -> None:
    assert build_search_provider(SearchSettings(), http) is None
    with pytest.raises(ValueError, match=r"unknown search\.provider 'google'"):
        build_search_provider(SearchSettings(provider="google"), http)
    with pytest.raises(ValueError, match=r"needs search\.api_key"):
        build_search_provider(SearchSettings(provider="bing"), http)
    with pytest.raises(ValueError, match=r"needs search\.base_url"):
        build_search_provider(SearchSettings(provider="searxng"), http)
