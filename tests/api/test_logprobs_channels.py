"""`logprobs` through channels: OpenAI-compatible upstreams get `logprobs`/`top_logprobs` and
their answer's logprobs come back (sync and streamed); vendors that have none answer a 400
that names them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fakes.anthropic import create_app as create_anthropic
from tests.fakes.ernie import FakeErnie
from tests.fakes.gemini import create_app as create_gemini
from tests.fakes.openai_logprobs import create_app as create_upstream
from tests.fakes.server import serve_asgi
from tests.fakes.spark import FakeSpark
from tests.support.server import RunningServer, run_server

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "one two three four"}]
VENDORS = {
    "fake-claude": "Anthropic",
    "fake-gemini": "Gemini",
    "fake-ernie": "ERNIE",
    "fake-spark": "Spark",
}


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Any, dict[str, str]]]:
    app = create_upstream()
    ernie, spark = FakeErnie(), FakeSpark()
    with (
        serve_asgi(app) as oa,
        serve_asgi(create_anthropic()) as an,
        serve_asgi(create_gemini()) as gm,
        serve_asgi(ernie.app()) as er,
        serve_asgi(spark.app()) as sp,
    ):
        urls = {"openai": oa + "/v1", "anthropic": an, "gemini": gm, "ernie": er}
        urls["spark"] = sp.replace("http://", "ws://")
        yield app, urls


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, upstream: tuple[Any, dict[str, str]]
) -> Iterator[RunningServer]:
    _, u = upstream

    def model(name: str, channel: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "channels": [channel]}

    config = {
        "models": [
            model(
                "relay-gpt",
                {"provider": "openai_compat", "base_url": u["openai"], "api_key": "sk-1"}
                | {"upstream_model": "gpt-up"},
            ),
            model(
                "fake-claude",
                {"provider": "anthropic", "base_url": u["anthropic"], "api_key": "sk-ant-test-1"}
                | {"upstream_model": "claude-fake"},
            ),
            model(
                "fake-gemini",
                {"provider": "gemini", "base_url": u["gemini"], "api_key": "gm-test-1"}
                | {"upstream_model": "gemini-fake"},
            ),
            model(
                "fake-ernie",
                {"provider": "ernie", "base_url": u["ernie"], "upstream_model": "ERNIE-3.5-8K"}
                | {"options": {"ak": "test-ak", "sk": "test-sk"}},
            ),
            model(
                "fake-spark",
                {"provider": "spark", "base_url": u["spark"], "api_key": "test-api-key"}
                | {"upstream_model": "v3.5"}
                | {"options": {"app_id": "app12345", "api_secret": "test-api-secret"}},
            ),
        ],
    }
    with run_server(tmp_path_factory.mktemp("logprobs-channels"), config=config) as server:
        yield server


@pytest.fixture(scope="module")
def client(running: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=running.api_url, api_key=running.admin_key, max_retries=0)


def test_upstream_logprobs_come_back(
    client: openai.OpenAI, upstream: tuple[Any, dict[str, str]]
) -> None:
    app, _ = upstream
    reply = client.chat.completions.create(
        model="relay-gpt", messages=HELLO, logprobs=True, top_logprobs=2
    )
    sent = app.state.requests[-1]
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2
    choice = reply.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content is not None
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content == "Echo: one two three four"
    assert [t.logprob for t in tokens] == [0.0, -0.25, -0.5, -0.75, -1.0]
    assert [t.token for t in tokens[1].top_logprobs] == [" one", " ONE"]
    assert bytes(tokens[1].bytes or []) == b" one"


def test_upstream_logprobs_stream_back(
    client: openai.OpenAI, upstream: tuple[Any, dict[str, str]]
) -> None:
    app, _ = upstream
    stream = client.chat.completions.create(
        model="relay-gpt", messages=HELLO, logprobs=True, top_logprobs=3, stream=True
    )
    content, tokens = "", []
    for chunk in stream:
        for choice in chunk.choices:
            content += choice.delta.content or ""
            if choice.logprobs is not None and choice.logprobs.content:
                assert "".join(t.token for t in choice.logprobs.content) == choice.delta.content
                tokens.extend(choice.logprobs.content)
    assert app.state.requests[-1]["top_logprobs"] == 3
    assert "".join(t.token for t in tokens) == content == "Echo: one two three four"
    assert all(len(t.top_logprobs) == 3 for t in tokens)


def test_upstream_without_logprobs_is_not_asked(
    client: openai.OpenAI, upstream: tuple[Any, dict[str, str]]
) -> None:
    app, _ = upstream
    reply = client.chat.completions.create(model="relay-gpt", messages=HELLO)
    assert "logprobs" not in app.state.requests[-1]
    assert reply.choices[0].logprobs is None


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", sorted(VENDORS))
def test_vendors_without_logprobs_refuse(running: RunningServer, model: str, stream: bool) -> None:
    body = {"model": model, "messages": HELLO, "logprobs": True, "stream": stream}
    headers = {"Authorization": f"Bearer {running.admin_key}"}
    response = httpx.post(
        running.api_url + "/chat/completions", json=body, headers=headers, timeout=30
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert VENDORS[model] in error["message"]
    assert error["type"] == "invalid_request_error"
