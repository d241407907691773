"""Fake vendor servers (one per session) and a shared HTTP client for the adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from modelport.providers.base import ProviderDeps
from modelport.providers.http_client import UpstreamHTTP
from modelport.settings import Settings
from tests.fakes.server import serve_asgi


@pytest.fixture(scope="session")
def openai_app() -> Any:
    from tests.fakes.openai_upstream import create_app

    return create_app()


@pytest.fixture(scope="session")
def openai_url(openai_app: Any) -> Iterator[str]:
    with serve_asgi(openai_app) as url:
        yield url + "/v1"


@pytest.fixture(scope="session")
def anthropic_app() -> Any:
    from tests.fakes.anthropic import create_app

    return create_app()


@pytest.fixture(scope="session")
def anthropic_url(anthropic_app: Any) -> Iterator[str]:
    with serve_asgi(anthropic_app) as url:
        yield url


@pytest.fixture(scope="session")
def gemini_app() -> Any:
    from tests.fakes.gemini import create_app

    return create_app()


@pytest.fixture(scope="session")
def gemini_url(gemini_app: Any) -> Iterator[str]:
    with serve_asgi(gemini_app) as url:
        yield url


@pytest.fixture(scope="session")
async def deps() -> AsyncIterator[ProviderDeps]:
    settings = Settings()
    http = UpstreamHTTP(settings.upstream)
    try:
        yield ProviderDeps(settings=settings, http=http)
    finally:
        await http.aclose()
