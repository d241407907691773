"""A quota under concurrency: many requests at once, on one replica or two, spend at most the
quota plus one request's hold (its prompt estimate and `max_tokens`), never a multiple of it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from modelport.protocol.chat import ChatCompletionRequest
from modelport.providers.budget import OutputBudget, prompt_hold
from modelport.settings import UpstreamSettings
from tests.accounting.platform.conftest import (
    FAKE_MODEL,
    LOCAL_MODEL,
    Platform,
    settled_usage,
)

WORDS = " ".join(["word"] * 200)  # the fake upstream bills a token per word, both ways


def _hold(body: dict[str, Any]) -> int:
    """The tokens one request holds at admission, as the gate computes them."""
    request = ChatCompletionRequest.model_validate(body)
    return prompt_hold(request) + OutputBudget.of(request, UpstreamSettings()).tokens


def _body(model: str, text: str, max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def _burst(replicas: list[Platform], key: str, body: dict[str, Any], n: int) -> list[int]:
    """`n` streams at once, spread over the replicas; their statuses."""

    def send(i: int) -> int:
        p = replicas[i % len(replicas)]
        headers = {"Authorization": f"Bearer {key}"}
        with p.http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
            for _ in r.iter_lines():
                pass
            return r.status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(send, range(n)))


def _spent(p: Platform, key_id: str, admitted: int) -> int:
    total: int = settled_usage(p, key_id, admitted)["total_tokens"]
    return total


def test_concurrent_streams_overdraw_by_at_most_one_hold(platform: Platform) -> None:
    body = _body(FAKE_MODEL, WORDS, 200)
    key = platform.new_key(quota_tokens=50)
    statuses = _burst([platform], key["key"], body, 20)
    admitted = statuses.count(200)
    assert admitted >= 1 and statuses.count(429) == 20 - admitted, statuses
    spent = _spent(platform, key["id"], admitted)
    # Each admitted stream spends 200 + 200 tokens; more than one would pass 50 + one hold.
    assert 400 <= spent <= 50 + _hold(body), (spent, statuses)


def test_concurrent_local_streams_overdraw_by_at_most_one_hold(
    sqlite_platform: Platform,
) -> None:
    body = _body(LOCAL_MODEL, "Write a long story about a cat.", 8)
    key = sqlite_platform.new_key(quota_tokens=50)
    statuses = _burst([sqlite_platform], key["key"], body, 20)
    admitted = statuses.count(200)
    assert admitted >= 1 and statuses.count(429) == 20 - admitted, statuses
    spent = _spent(sqlite_platform, key["id"], admitted)
    assert 0 < spent <= 50 + _hold(body), (spent, statuses)


def test_two_replicas_overdraw_by_at_most_one_hold(
    two_replicas: tuple[Platform, Platform],
) -> None:
    a, b = two_replicas
    body = _body(FAKE_MODEL, WORDS, 200)
    key = a.new_key(quota_tokens=50)
    statuses = _burst([a, b], key["key"], body, 20)
    admitted = statuses.count(200)
    assert admitted >= 1 and statuses.count(429) == 20 - admitted, statuses
    assert _spent(b, key["id"], admitted) <= 50 + _hold(body), statuses


def test_alternating_replicas_stop_at_the_quota(two_replicas: tuple[Platform, Platform]) -> None:
    """Sequential requests, each on the other replica: each sees what the last one spent."""
    a, b = two_replicas
    key = a.new_key(quota_tokens=50)
    body = {"messages": [{"role": "user", "content": "one two three"}], "max_tokens": 3}
    statuses = []
    for i in range(40):
        response = (a, b)[i % 2].chat(key["key"], **body)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    admitted = statuses.count(200)
    assert statuses[-1] == 429 and admitted == len(statuses) - 1, statuses
    spent = _spent(a, key["id"], admitted)
    one_request = 3 + 3  # prompt words and "Echo: one two" as the fake bills them
    assert 50 <= spent <= 50 + one_request, (spent, statuses)
