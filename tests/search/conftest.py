"""Fakes for the search suite: a web of pages and a SearxNG that points at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.fakes.server import serve_asgi
from tests.search.fakes import WebState, pages_app, searxng_app


@dataclass
class FakeWeb:
    state: WebState
    pages_url: str
    searxng_url: str


@pytest.fixture(scope="session")
def fake_web() -> Iterator[FakeWeb]:
    state = WebState()
    with (
        serve_asgi(pages_app(state)) as pages_url,
        serve_asgi(searxng_app(state, pages_url)) as searxng_url,
    ):
        yield FakeWeb(state, pages_url, searxng_url)


@pytest.fixture
def web(fake_web: FakeWeb) -> FakeWeb:
    """The shared fakes with their counters cleared for this test."""
    fake_web.state.reset()
    return fake_web
