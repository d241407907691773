"""Web search through a real `modelport serve`: the official SDK, raw SSE, the fakes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.api.knowledge.helpers import ENGLISH_DOC, KbApi
from tests.search.conftest import FakeWeb
from tests.support.server import RunningServer, run_server

QUESTION = "When did the Kestrel Ridge Observatory open?"
BOILERPLATE = ("cookies", "trackingPixel", "newsletter", "Subscribe", "Highland Gazette Media")
MODEL = "smollm2-135m-instruct"
WEB_SEARCH_TOOL = {"type": "web_search", "web_search": {"enable": True, "search_mode": "quality"}}


def search_config(web: FakeWeb, **overrides: Any) -> dict[str, Any]:
    fetch = {"timeout": 2.0, "max_bytes": 200_000, "pages": 3}
    search = {
        "provider": "searxng",
        "base_url": web.searxng_url,
        "timeout": 1.0,
        "passages": 3,
        "context_chars": 1200,
        "fetch": fetch,
    }
    search.update(overrides)
    return {"search": search}


@pytest.fixture(scope="module")
def allowed(fake_web: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Search on; the fakes' loopback address is allow-listed for the page fetcher."""
    config = search_config(fake_web)
    config["search"]["fetch"]["allow_networks"] = ["127.0.0.1/32"]
    with run_server(tmp_path_factory.mktemp("search-allowed"), config=config) as running:
        yield running


@pytest.fixture(scope="module")
def guarded(fake_web: FakeWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Search on with the default fetch policy (loopback refused); failures answer plainly."""
    config = search_config(fake_web, on_failure="answer")
    with run_server(tmp_path_factory.mktemp("search-guarded"), config=config) as running:
        yield running


def sdk(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)


def ask(server: RunningServer, question: str = QUESTION, **extra: Any) -> Any:
    return sdk(server).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": question}],
        max_tokens=4,
        temperature=0,
        extra_body=extra,
    )


def sources_of(reply: Any) -> list[dict[str, Any]]:
    extra = reply.model_extra or {}
    sources: list[dict[str, Any]] = extra.get("search_sources") or []
    return sources


def test_grounded_answer_names_its_sources(allowed: RunningServer, web: FakeWeb) -> None:
    plain = ask(allowed)
    reply = ask(allowed, with_search_enhance=True)
    sources = sources_of(reply)
    assert web.state.queries == [QUESTION]
    assert sources and set(sources[0]) == {"title", "content", "url"}
    assert sources[0]["url"] == web.pages_url + "/gazette/observatory.html"
    assert "14 March 1987" in sources[0]["content"]
    assert not [w for w in BOILERPLATE if any(w in s["content"] for s in sources)]
    assert web.state.hits["/gazette/observatory.html"] == 1
    # The passages went into the prompt.
    assert reply.usage.prompt_tokens > plain.usage.prompt_tokens + 60
    assert sources_of(plain) == []


def test_sdk_stream_carries_sources_in_the_final_chunk(
    allowed: RunningServer, web: FakeWeb
) -> None:
    stream = sdk(allowed).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": QUESTION}],
        max_tokens=4,
        temperature=0,
        stream=True,
        extra_body={"tools": [WEB_SEARCH_TOOL]},
    )
    chunks = list(stream)
    with_sources = [i for i, c in enumerate(chunks) if sources_of(c)]
    assert with_sources == [len(chunks) - 1]
    assert chunks[-1].choices[0].finish_reason == "length"  # the finish chunk: 4 tokens
    assert "14 March 1987" in sources_of(chunks[-1])[0]["content"]
    assert web.state.queries == [QUESTION]


def test_raw_sse_stream_ends_with_sources_then_done(allowed: RunningServer, web: FakeWeb) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": QUESTION}],
        "max_tokens": 4,
        "stream": True,
        "with_search_enhance": True,
    }
    headers = {"Authorization": f"Bearer {allowed.admin_key}"}
    with httpx.stream(
        "POST", allowed.api_url + "/chat/completions", json=body, headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    events = [json.loads(d) for d in data[:-1]]
    assert ["search_sources" in e for e in events] == [False] * (len(events) - 1) + [True]
    urls = [s["url"] for s in events[-1]["search_sources"]]
    assert urls[0] == web.pages_url + "/gazette/observatory.html"


def test_search_engine_failures_are_clear_errors(allowed: RunningServer, web: FakeWeb) -> None:
    with pytest.raises(openai.APIStatusError) as failed:
        ask(allowed, "explode the observatory", with_search_enhance=True)
    assert failed.value.status_code == 502
    assert failed.value.body["code"] == "search_failed"  # type: ignore[index]
    with pytest.raises(openai.APIStatusError) as slow:
        ask(allowed, "stall the observatory", tools=[WEB_SEARCH_TOOL])
    assert slow.value.status_code == 504
    assert slow.value.body["code"] == "search_timeout"  # type: ignore[index]


def test_search_failure_can_answer_without_search(guarded: RunningServer, web: FakeWeb) -> None:
    plain = ask(guarded, "explode the observatory")  # no search asked for
    reply = ask(guarded, "explode the observatory", with_search_enhance=True)
    assert web.state.queries == ["explode the observatory"]  # the search was tried, and failed
    # ...so the question was answered as it stood: the same prompt, the same greedy answer.
    assert reply.choices[0].message.content == plain.choices[0].message.content
    assert reply.choices[0].message.content
    assert reply.usage.prompt_tokens == plain.usage.prompt_tokens
    assert sources_of(reply) == []


def test_hostile_results_are_not_fetched(allowed: RunningServer, web: FakeWeb) -> None:
    """169.254.169.254 directly, and through an allow-listed page's redirect; file://."""
    reply = ask(allowed, "cloud instance metadata credentials", with_search_enhance=True)
    sources = sources_of(reply)
    snippets = {"Metadata endpoint listing.", "A page that explains instance metadata credentials."}
    assert sources and {s["content"] for s in sources} <= snippets
    assert web.state.hits == {"/go/metadata": 1}  # the first hop only
    assert all(not s["url"].startswith("file:") for s in sources)


def test_result_redirecting_to_an_unparsable_address_is_skipped(
    allowed: RunningServer, web: FakeWeb
) -> None:
    """The first result redirects to http://0177.0.0.1/; the second grounds the answer."""
    question = "When did the Kestrel Ridge Observatory open? Archived pages welcome."
    reply = ask(allowed, question, with_search_enhance=True)  # raises unless 200
    sources = sources_of(reply)
    assert web.state.queries == [question]
    assert web.state.hits == {"/go/octal": 1, "/gazette/observatory.html": 1}
    page, skipped = web.pages_url + "/gazette/observatory.html", web.pages_url + "/go/octal"
    assert [s["url"] for s in sources] == [page, skipped, page]
    assert sources[0]["content"].startswith(
        "The Kestrel Ridge Observatory opened to the public on 14 March 1987"
    )
    # The skipped page is there only as the engine's snippet.
    assert sources[1] == {
        "title": "Kestrel Ridge Observatory (archived copy)",
        "content": "An archived copy of the observatory's history page.",
        "url": skipped,
    }


def test_loopback_pages_are_refused_without_the_allow_list(
    guarded: RunningServer, web: FakeWeb
) -> None:
    reply = ask(guarded, with_search_enhance=True)
    sources = sources_of(reply)
    assert web.state.queries == [QUESTION]
    assert not web.state.hits  # no page was requested
    assert sources and all("14 March 1987" not in s["content"] for s in sources)
    assert sources[0]["content"].startswith("Kestrel Ridge Observatory: history")


def test_huge_and_non_html_pages(allowed: RunningServer, web: FakeWeb) -> None:
    reply = ask(allowed, "heavy telescope catalogue", with_search_enhance=True)
    sources = sources_of(reply)
    # Cut at max_bytes, not 200 MB; the margin is loopback socket buffering (~10 MB).
    assert web.state.huge_bytes_sent < 64 * 1024 * 1024
    assert any("Telescope catalogue row" in s["content"] for s in sources)
    assert all("%PDF" not in s["content"] and "PNG" not in s["content"] for s in sources)
    assert web.state.hits["/catalogue.pdf"] == 1 and web.state.hits["/telescope.png"] == 1


def test_knowledge_base_wins_over_search(allowed: RunningServer, web: FakeWeb) -> None:
    kb = KbApi(allowed)
    kb_id, [file_id] = kb.kb_with(("travel.md", ENGLISH_DOC))
    question = "What is the daily meal allowance on business trips?"
    response = kb.chat([kb_id], question, with_search_enhance=True, max_tokens=4)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "search_sources" not in body
    assert body["knowledge_base"]["cites"][0]["file_id"] == file_id
    assert web.state.queries == [] and not web.state.hits


def test_search_without_a_provider_is_refused(server: RunningServer, web: FakeWeb) -> None:
    for extra, param in (
        ({"with_search_enhance": True}, "with_search_enhance"),
        ({"tools": [WEB_SEARCH_TOOL]}, "tools"),
    ):
        with pytest.raises(openai.BadRequestError) as refused:
            ask(server, **extra)
        assert refused.value.body["code"] == "search_not_configured"  # type: ignore[index]
        assert refused.value.body["param"] == param  # type: ignore[index]
