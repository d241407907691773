"""`POST /v1/completions` (legacy text completions) through the official SDK's
`client.completions.create`: on the embedded engine (the raw prompt, no chat template) and
relayed to an OpenAI-compatible upstream's `/completions`; admitted and booked like chat."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.openai_completions import install
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import serve_asgi
from tests.support.server import RunningServer, run_server

LOCAL = "smollm2-135m-instruct"
RELAYED = "fake-gpt"
CHAT_ONLY = "fake-claude"
PRICE = {"prompt": 0.5, "completion": 1.5}


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Any, str]]:
    app = install(create_app())
    with serve_asgi(app) as url:
        yield app, url + "/v1"


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, upstream: tuple[Any, str]
) -> Iterator[RunningServer]:
    _, url = upstream
    relay = {"provider": "openai_compat", "base_url": url, "api_key": "sk-test-1"}
    config = {
        "models": [
            {"name": LOCAL, "price": PRICE, "channels": [{"provider": "local"}]},
            {"name": RELAYED, "price": PRICE, "channels": [{**relay, "upstream_model": "gpt-up"}]},
            {
                "name": CHAT_ONLY,
                "channels": [
                    {"provider": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "x"}
                ],
            },
        ],
        "engine": {"slots": 2},
    }
    with run_server(tmp_path_factory.mktemp("completions"), config=config) as server:
        yield server


def _client(server: RunningServer, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=key or server.admin_key, max_retries=0)


def _admin(server: RunningServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def _new_key(server: RunningServer, **fields: Any) -> dict[str, Any]:
    response = _admin(server).post("/admin/keys", json={"name": "t", "owner": "o", **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _totals(server: RunningServer, key_id: str, requests: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        report = _admin(server).get("/admin/usage", params={"key_id": key_id}).json()
        totals: dict[str, Any] = report["totals"]
        if totals["requests"] >= requests or time.monotonic() > deadline:
            return totals
        time.sleep(0.05)


def test_local_completion_continues_the_raw_prompt(running: RunningServer) -> None:
    client = _client(running)
    reply = client.completions.create(
        model=LOCAL, prompt="1, 2, 3, 4,", max_tokens=6, temperature=0
    )
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    assert reply.model == LOCAL and len(reply.choices) == 1
    choice = reply.choices[0]
    assert choice.index == 0 and choice.logprobs is None and choice.finish_reason == "length"
    assert choice.text.startswith(" 5"), choice.text  # a continuation, not a chat answer
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    assert reply.usage.prompt_tokens < 16  # no chat template around the prompt
    default = client.completions.create(model=LOCAL, prompt="Once upon a time")
    assert default.usage is not None and default.usage.completion_tokens <= 16  # legacy default


def test_local_echo_stop_and_n(running: RunningServer) -> None:
    client = _client(running)
    prompt = "1, 2, 3, 4,"
    echoed = client.completions.create(
        model=LOCAL, prompt=[prompt], max_tokens=4, temperature=0, echo=True
    )
    assert echoed.choices[0].text.startswith(prompt + " 5")
    cut = client.completions.create(
        model=LOCAL, prompt=prompt, max_tokens=12, temperature=0, stop=[" 7"]
    )
    assert cut.choices[0].finish_reason == "stop" and " 7" not in cut.choices[0].text
    assert cut.choices[0].text.startswith(" 5, 6")
    two = client.completions.create(
        model=LOCAL, prompt="Once upon a time", max_tokens=5, n=2, seed=1, temperature=1.0
    )
    assert [c.index for c in two.choices] == [0, 1] and all(c.text for c in two.choices)


def test_local_stream(running: RunningServer) -> None:
    client = _client(running)
    prompt = "1, 2, 3, 4,"
    events = list(
        client.completions.create(
            model=LOCAL,
            prompt=prompt,
            max_tokens=5,
            temperature=0,
            echo=True,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(e.object == "text_completion" for e in events)
    assert len({e.id for e in events}) == 1 and events[0].id.startswith("cmpl-")
    text = "".join(c.text for e in events for c in e.choices)
    assert text.startswith(prompt + " 5")
    finished = [c for e in events for c in e.choices if c.finish_reason]
    assert [c.finish_reason for c in finished] == ["length"]
    assert events[-1].choices == [] and events[-1].usage is not None
    assert events[-1].usage.completion_tokens == 5


def test_relayed_to_the_upstream_completions(
    running: RunningServer, upstream: tuple[Any, str]
) -> None:
    app, _ = upstream
    client = _client(running)
    reply = client.completions.create(
        model=RELAYED, prompt="say this", max_tokens=5, echo=True, n=2, stop=["nothing"], user="u1"
    )
    sent = app.state.completions[-1]
    assert sent["model"] == "gpt-up" and sent["prompt"] == "say this" and sent["n"] == 2
    assert "echo" not in sent and sent["user"] == "u1" and sent["max_tokens"] == 5
    assert [c.text for c in reply.choices] == ["say this continued: say this"] * 2
    assert reply.model == RELAYED and reply.id.startswith("cmpl-")
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    events = list(
        client.completions.create(
            model=RELAYED,
            prompt="one two three four",
            max_tokens=3,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert app.state.completions[-1]["stream"] is True
    assert "".join(c.text for e in events for c in e.choices) == " continued: one two"
    assert [c.finish_reason for e in events for c in e.choices if c.finish_reason] == ["length"]
    assert events[-1].usage is not None and events[-1].usage.completion_tokens == 3
    several = client.completions.create(model=RELAYED, prompt=["a b", "c d"], max_tokens=8)
    assert [c.text for c in several.choices] == [" continued: a b", " continued: c d"]


def test_completions_are_booked_and_held_to_the_quota(
    running: RunningServer, upstream: tuple[Any, str]
) -> None:
    app, _ = upstream
    key = _new_key(running, quota_tokens=12)
    client = _client(running, key["key"])
    first = client.completions.create(model=RELAYED, prompt="a b c", max_tokens=3)
    assert first.usage is not None
    streamed = client.completions.create(model=LOCAL, prompt="1, 2,", max_tokens=2, stream=True)
    assert list(streamed)
    totals = _totals(running, key["id"], 2)
    assert totals["requests"] == 2 and totals["cost_micros"] > 0
    assert totals["total_tokens"] >= first.usage.total_tokens
    before = len(app.state.completions)
    with pytest.raises(openai.RateLimitError) as refused:
        client.completions.create(model=RELAYED, prompt="a b c", max_tokens=3)
    assert refused.value.code == "insufficient_quota"
    assert len(app.state.completions) == before  # refused before the upstream


def test_model_allow_list_applies(running: RunningServer) -> None:
    key = _new_key(running, allowed_models=[LOCAL])
    with pytest.raises(openai.APIStatusError) as refused:
        _client(running, key["key"]).completions.create(model=RELAYED, prompt="x")
    assert refused.value.status_code in (403, 404)


def test_unsupported_requests_are_400(running: RunningServer) -> None:
    client = _client(running)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"model": CHAT_ONLY, "prompt": "x"}, "anthropic"),
        ({"model": LOCAL, "prompt": "x", "suffix": "y"}, "suffix"),
        ({"model": LOCAL, "prompt": "x", "logprobs": 1}, "logprobs"),
        ({"model": LOCAL, "prompt": "x", "best_of": 2}, "best_of"),
        ({"model": LOCAL, "prompt": [1, 2, 3]}, "token ids"),
        ({"model": LOCAL, "prompt": [[1, 2], [3]]}, "token ids"),
        ({"model": LOCAL, "prompt": ["a", "b"]}, "one prompt per request"),
        ({"model": LOCAL, "prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ]
    for body, words in cases:
        with pytest.raises(openai.BadRequestError) as refused:
            client.completions.create(**body)
        assert words in refused.value.message, (body, refused.value.message)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="no-such-model", prompt="x")
