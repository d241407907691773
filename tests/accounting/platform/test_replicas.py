"""Two replicas on one PostgreSQL and one Redis: the ledger equals what the clients were told."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.accounting.platform.conftest import FAKE_MODEL, Platform, settled_usage, sse_usage

FIELDS = ("prompt_tokens", "completion_tokens", "total_tokens")


def mixed_request(p: Platform, key: str, i: int) -> dict[str, int]:
    """One of several shapes (sync or streamed, various lengths); returns its reported usage."""
    rng = random.Random(i)
    words = " ".join(["word"] * rng.randint(1, 30))
    body: dict[str, Any] = {
        "model": FAKE_MODEL,
        "messages": [{"role": "user", "content": words}],
        "max_tokens": rng.randint(1, 40),
    }
    if i % 2:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
        headers = {"Authorization": f"Bearer {key}"}
        with p.http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
            assert r.status_code == 200
            usage = sse_usage(r.iter_lines())
        assert usage is not None
        return usage
    response = p.as_key(key, "POST", "/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    reported: dict[str, int] = response.json()["usage"]
    return reported


def test_ledger_equals_responses_across_replicas(two_replicas: tuple[Platform, Platform]) -> None:
    a, b = two_replicas
    key = a.new_key(quota_tokens=10**9, tpm=10**9)
    replicas = [a, b]
    with ThreadPoolExecutor(max_workers=6) as pool:
        usages = list(pool.map(lambda i: mixed_request(replicas[i % 2], key["key"], i), range(60)))
    expected = {f: sum(u[f] for u in usages) for f in FIELDS}
    for replica in (a, b):
        totals = settled_usage(replica, key["id"], 60)
        assert {f: totals[f] for f in FIELDS} == expected
        assert totals["requests"] == 60
    info = b.as_key(key["key"], "GET", "/v1/key").json()
    assert info["used_tokens"] == expected["total_tokens"]
