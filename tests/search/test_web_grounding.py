"""The web grounding augmenter in process: query, rules (KB wins, unconfigured, failures),
grounded prompt and sources."""

from __future__ import annotations

from typing import Any

import pytest

from modelport.chat.service import Caller
from modelport.chat.web_grounding import WebGrounding, search_query
from modelport.protocol.chat import ChatCompletionRequest, ChatMessage, FunctionTool
from modelport.protocol.errors import APIError
from modelport.search import PageFetcher, SearchError, SearchResult, SearchTimeout
from modelport.settings import SearchFetchSettings, SearchSettings
from tests.search.conftest import FakeWeb

CALLER = Caller(key_id="k", owner="o", request_id="req_test")
QUESTION = "When did the Kestrel Ridge Observatory open?"


class FakeProvider:
    name = "fake"

    def __init__(self, results: list[SearchResult] | None = None, fail: Exception | None = None):
        self.results = results or []
        self.fail = fail
        self.queries: list[str] = []

    async def search(self, query: str, count: int) -> list[SearchResult]:
        self.queries.append(query)
        if self.fail is not None:
            raise self.fail
        return self.results[:count]


def request(**fields: Any) -> ChatCompletionRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": QUESTION}], **fields}
    return ChatCompletionRequest.model_validate(body)


def grounding(provider: FakeProvider | None, **settings: Any) -> WebGrounding:
    config = SearchSettings(
        fetch=SearchFetchSettings(allow_networks=["127.0.0.1/32"], timeout=2), **settings
    )
    return WebGrounding(config, provider, PageFetcher(config.fetch))


def observatory_results(web: FakeWeb) -> list[SearchResult]:
    return [
        SearchResult("Kestrel Ridge Observatory", web.pages_url + "/gazette/observatory.html", ""),
        SearchResult("Vireo mirror", web.pages_url + "/optics/mirror.html", "About a mirror."),
    ]


def test_query_is_the_last_user_turn_with_short_context() -> None:
    def messages(*turns: tuple[str, str]) -> list[ChatMessage]:
        return [ChatMessage(role=role, content=text) for role, text in turns]

    assert search_query(messages(("user", "  What is   SearxNG? "))) == "What is SearxNG?"
    follow_up = messages(
        ("user", "Tell me about the Kestrel Ridge Observatory in the Highlands"),
        ("assistant", "It is an observatory."),
        ("user", "When did it open?"),
    )
    assert search_query(follow_up) == (
        "Tell me about the Kestrel Ridge Observatory in the Highlands When did it open?"
    )
    long_turn = "background " * 60 + "so which telescope is largest?"
    query = search_query(messages(("user", long_turn)))
    assert len(query) <= 256 and query.endswith("so which telescope is largest?")
    assert search_query(messages(("system", "Be brief."))) == ""


async def test_requests_without_search_or_with_knowledge_bases_are_left_alone() -> None:
    provider = FakeProvider()
    augmenter = grounding(provider)
    assert await augmenter.augment(request(), CALLER) is None
    both = request(with_search_enhance=True, knowledge_base={"ids": ["kb-1"]})
    assert await augmenter.augment(both, CALLER) is None
    tools = [{"type": "web_search"}, {"type": "retrieval", "retrieval": {"kb_ids": ["kb-2"]}}]
    assert await augmenter.augment(request(tools=tools), CALLER) is None
    assert provider.queries == []
    # Knowledge bases win even where search would be refused for want of a provider.
    assert await grounding(None).augment(both, CALLER) is None


async def test_unconfigured_search_is_refused_or_ignored() -> None:
    with pytest.raises(APIError) as refused:
        await grounding(None).augment(request(tools=[{"type": "web_search"}]), CALLER)
    assert refused.value.status == 400
    assert refused.value.code == "search_not_configured" and refused.value.param == "tools"
    ignored = await grounding(None, on_unconfigured="answer").augment(
        request(with_search_enhance=True), CALLER
    )
    assert ignored is not None and ignored.searches == 0 and not ignored.response_fields
    assert not ignored.request.wants_web_search()


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (SearchError("engine answered HTTP 500"), 502, "search_failed"),
        (SearchTimeout("x"), 504, "search_timeout"),
    ],
)
async def test_search_failures_are_clear_errors_or_ignored(
    failure: SearchError, status: int, code: str
) -> None:
    with pytest.raises(APIError) as raised:
        await grounding(FakeProvider(fail=failure)).augment(
            request(with_search_enhance=True), CALLER
        )
    assert (raised.value.status, raised.value.code) == (status, code)
    ignored = await grounding(FakeProvider(fail=failure), on_failure="answer").augment(
        request(with_search_enhance=True), CALLER
    )
    assert ignored is not None and ignored.searches == 0
    assert ignored.request.messages == request().messages


async def test_grounded_request_and_sources(web: FakeWeb) -> None:
    provider = FakeProvider(observatory_results(web))
    function = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    original = request(
        messages=[
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": QUESTION},
        ],
        tools=[{"type": "web_search", "web_search": {"enable": True}}, function],
    )
    result = await grounding(provider, rank_with_vectors=False).augment(original, CALLER)
    assert result is not None and result.searches == 1
    assert provider.queries == [QUESTION]
    cites = result.response_fields["search_sources"]
    assert cites[0].url == web.pages_url + "/gazette/observatory.html"
    assert "14 March 1987" in cites[0].content
    system = result.request.messages[0]
    assert system.role == "system" and len(result.request.messages) == 2
    text = system.text()
    assert text.startswith("Answer in one sentence.")
    assert f"[1] Kestrel Ridge Observatory ({cites[0].url})\n{cites[0].content}" in text
    assert f"[{len(cites)}] " in text
    assert [type(t) for t in result.request.tools or []] == [FunctionTool]
    assert not result.request.wants_web_search()
    assert web.state.hits["/gazette/observatory.html"] == 1
